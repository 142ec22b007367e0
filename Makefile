# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# 127.0.0.1 serves this machine only; HOST=0.0.0.0 (or the machine's office-network address) serves the
# office network. Production runs gunicorn instead (README, "Deploying").
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app server
EDITOR_BUNDLE := server/admin/static/build/studio-editor.js
# Debian packages: CJK fonts for documents, fast font subsetting, PDF → PNG, the browser for e2e tests,
# pg_dump/pg_restore for `flask backup`/`restore` on PostgreSQL (Debian 12's PostgreSQL is 15), Node.js
# to build the configuration studio's editor bundle (npm: see system-deps).
SYSTEM_PACKAGES := fonts-noto-cjk fonts-arphic-gkai00mp libharfbuzz-subset0 poppler-utils chromium postgresql-client-15 nodejs

.PHONY: run test setup system-deps fonts db check bench

# The tick (timers, escalation, daily rules) runs every minute beside the server, logging to instance/tick.log;
# production runs it from cron or a systemd timer (README).
run: db
	$(FLASK) config check
	@mkdir -p instance; \
	( while true; do $(FLASK) tick >>instance/tick.log 2>&1; sleep 60; done ) & ticker=$$!; \
	trap 'kill $$ticker 2>/dev/null' EXIT INT TERM; \
	SERVER_ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

# With TEST_DATABASE_URL set (CI), the suite runs on SQLite and on PostgreSQL side by side, one per core;
# the PostgreSQL run's output follows the SQLite run's, and both must pass.
test: setup
	@if [ -z "$$TEST_DATABASE_URL" ]; then exec $(BIN)/python -m pytest; fi; \
	log=$$(mktemp); \
	$(BIN)/python -m pytest >$$log 2>&1 & pg=$$!; \
	echo "== SQLite (PostgreSQL at $$TEST_DATABASE_URL runs alongside) =="; \
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest; sqlite=$$?; \
	wait $$pg; postgres=$$?; \
	echo "== PostgreSQL ($$TEST_DATABASE_URL) =="; cat $$log; rm -f $$log; \
	[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]

setup: system-deps fonts $(VENV)/.installed $(EDITOR_BUNDLE)

# npm is looked for as a command: NodeSource's nodejs package bundles it (and conflicts with Debian's npm).
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# 仿宋 and a 宋体 with a full-width 一字线: Debian has no usable FangSong package of its own, so the
# free Fandol fonts (GPL with font exception) are taken from Debian's texlive-lang-chinese .deb and
# registered with fontconfig. A county's licensed 仿宋_GB2312 goes in FONTS_DIR and is preferred.
FANDOL_DIR := /usr/local/share/fonts/fandol
FANDOL_FILES := FandolFang-Regular.otf FandolSong-Regular.otf
fonts: system-deps
	@if [ ! -f $(FANDOL_DIR)/FandolFang-Regular.otf ]; then \
	  echo "Installing Fandol fonts into $(FANDOL_DIR)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  tmp=$$(mktemp -d) && chmod 755 $$tmp && cd $$tmp && apt-get download texlive-lang-chinese >/dev/null && \
	  dpkg-deb --fsys-tarfile texlive-lang-chinese_*.deb | tar -x --wildcards './usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/*' './usr/share/doc/texlive-doc/fonts/fandol/*' && \
	  $$SUDO mkdir -p $(FANDOL_DIR) && \
	  for f in $(FANDOL_FILES); do $$SUDO cp usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/$$f $(FANDOL_DIR)/; done && \
	  $$SUDO cp usr/share/doc/texlive-doc/fonts/fandol/COPYING.gz usr/share/doc/texlive-doc/fonts/fandol/README $(FANDOL_DIR)/ && \
	  cd / && rm -rf $$tmp && $$SUDO fc-cache -f $(FANDOL_DIR) >/dev/null; \
	fi

# The configuration studio's code editor: CodeMirror 6 from the npm registry, bundled by esbuild into one
# script that the app serves itself (intranet: no CDN; CSP: scripts from 'self' only). Rebuilt only when
# the lock file or our own source changes. No install scripts: esbuild runs from its platform package.
frontend/node_modules/.package-lock.json: frontend/package-lock.json | system-deps
	cd frontend && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(EDITOR_BUNDLE): frontend/node_modules/.package-lock.json frontend/build.mjs $(wildcard frontend/src/*.js frontend/src/*/*.js)
	cd frontend && node build.mjs

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

db: setup
	$(FLASK) db upgrade
	$(FLASK) demo load --year 2026

check: setup
	$(FLASK) config check

bench: setup
	$(BIN)/python tests/benchmarks/bench_api.py
