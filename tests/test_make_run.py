"""`make run` serves the address HOST names (issue 12 item 9): 127.0.0.1 unless an office network is asked for.

`make -n` prints the commands without running them, so this checks the Makefile itself, fast."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def served(*args: str, **env: str) -> str:
    """The ``flask run`` line `make run` would execute."""
    environment = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")} | env
    out = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, env=environment, capture_output=True,
                         text=True, check=True).stdout
    return next(line for line in out.splitlines() if " run --host " in line)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_binds_localhost_unless_host_is_set():
    assert served().endswith("run --host 127.0.0.1 --port 5000")
    assert served(HOST="0.0.0.0").endswith("run --host 0.0.0.0 --port 5000")
    assert served("HOST=10.12.0.5", "PORT=8000").endswith("run --host 10.12.0.5 --port 8000")
