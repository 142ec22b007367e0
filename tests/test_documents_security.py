"""Security of document rendering: the URL fetcher, the template sandbox, and the render limits.

Hostile input comes from two places: the template (configuration an administrator edits) and the
record data (what any user typed). Neither may read a server file, reach a network address, run code,
or keep a render process busy past the limit.
"""
from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from server.documents.fetcher import AssetOnlyFetcher
from server.documents.pdf import RenderError, Renderer
from server.documents.sandbox import LAYOUT_DIR, make_environment
from server.documents.worker import Job, RenderPool

DOC = {"title": "安全测试", "mark": "示范县社会治安综合治理中心", "number": "示综治〔2026〕1号",
       "signer": "示范县社会治安综合治理中心", "date": "2026年11月29日", "printer": "示范县社会治安综合治理中心",
       "printed_date": "2026年11月29日", "draft": False}


def template(body: str) -> dict[str, str]:
    return {"t.html": '{% extends "gbt9704.html" %}{% block body %}' + body + "{% endblock %}"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="module")
def canary():  # type: ignore[no-untyped-def]
    """A local HTTP server that counts every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # type: ignore[no-untyped-def]
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body{color:red}")

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


HOSTILE_MARKUP = [
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="file:///etc/passwd">',
    '<img src="{url}/img.png">',
    '<link rel="stylesheet" href="{url}/x.css">',
    '<style>@import url("{url}/import.css"); body {{ background: url("file:///etc/hostname") }}</style>',
    '<style>@font-face {{ font-family: X; src: url("{url}/font.ttf") }} p {{ font-family: X }}</style>',
    '<iframe src="{url}/frame"></iframe><object data="file:///etc/passwd"></object>',
    '<img src="file:///../../../../etc/passwd"><img src="' + (LAYOUT_DIR / ".." / ".." / ".." / "pyproject.toml").as_uri() + '">',
    '<img src="ftp://127.0.0.1/x"><img src="file://example.com/etc/passwd">',
]


@pytest.mark.parametrize("markup", HOSTILE_MARKUP)
def test_a_template_cannot_fetch_files_or_urls(renderer, canary, markup):
    url, hits = canary
    before = len(hits)
    result = renderer.render(template(markup.format(url=url)), "t.html", {"doc": DOC}, max_pages=5)
    assert len(hits) == before, "the render reached the network"
    assert result.refused, "the fetcher should have refused something"
    assert b"root:x:0:0" not in result.pdf and b"/EmbeddedFile" not in result.pdf
    assert b"pyproject" not in result.pdf


def test_user_data_is_text_never_markup(renderer, canary):
    url, hits = canary
    before = len(hits)
    value = f'<img src="{url}/u.png"><link rel="attachment" href="file:///etc/passwd">'
    result = renderer.render(template("<p>{{ data.v }}</p>"), "t.html", {"doc": DOC, "data": {"v": value}},
                             max_pages=5)
    assert len(hits) == before and result.refused == []
    assert b"root:x:0:0" not in result.pdf and b"/EmbeddedFile" not in result.pdf
    html = renderer.html(template("<p>{{ data.v }}</p>"), "t.html", {"doc": DOC, "data": {"v": value}})
    assert "&lt;img src=&#34;" in html and "<img" not in html


def test_the_fetcher_allows_only_files_below_its_roots(tmp_path):
    inside = tmp_path / "assets"
    inside.mkdir()
    (inside / "ok.css").write_text("p{}")
    (tmp_path / "secret.txt").write_text("secret")
    (inside / "link.css").symlink_to(tmp_path / "secret.txt")
    fetcher = AssetOnlyFetcher([inside])
    assert fetcher.fetch((inside / "ok.css").as_uri()).read() == b"p{}"
    refused = [(tmp_path / "secret.txt").as_uri(), (inside / "link.css").as_uri(), (inside / "../secret.txt").as_uri(),
               (inside / "missing.css").as_uri(), inside.as_uri(), "http://127.0.0.1:9/x", "https://example.com/",
               "file://remote-host/etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x"]
    for url in refused:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == len(refused)
    assert fetcher.fetch("data:text/css,p%7B%7D").read() == b"p{}"


SSTI = [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() | length }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ data.__class__.__base__.__subclasses__() }}",
]


@pytest.mark.parametrize("payload", SSTI)
def test_template_injection_is_blocked(renderer, payload):
    with pytest.raises(RenderError) as failure:
        renderer.html(template(payload), "t.html", {"doc": DOC, "data": {}})
    assert "文书模板出错" in str(failure.value)
    assert "uid=" not in str(failure.value)


def test_user_data_that_looks_like_a_template_is_printed_verbatim(renderer):
    value = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    html = renderer.html(template("<p>{{ data.v }}</p>"), "t.html", {"doc": DOC, "data": {"v": value}})
    assert "uid=" not in html and "{{ cycler" in html


@pytest.mark.parametrize("payload", ["{{ ('x' * 10**7) | length }}", "{{ ('x' * 10000000) | length }}",
                                     "{{ ([1] * 1000000) | length }}", "{{ (10000000 * 'ab') | length }}",
                                     "{{ 2 ** 1000000 }}"])
def test_huge_results_are_refused(renderer, payload):
    with pytest.raises(RenderError) as failure:
        renderer.html(template(payload), "t.html", {"doc": DOC})
    assert "过大" in str(failure.value) or "乘方" in str(failure.value)


def test_small_products_still_work(renderer):
    assert "xxxx" in renderer.html(template("{{ 'x' * 4 }}"), "t.html", {"doc": DOC})


def test_undefined_names_are_errors_not_blank_lines(renderer):
    with pytest.raises(RenderError) as failure:
        renderer.html(template("{{ data.missing }}"), "t.html", {"doc": DOC, "data": {}})
    assert "missing" in str(failure.value)


@pytest.fixture(scope="module")
def pool():  # type: ignore[no-untyped-def]
    pool = RenderPool(1, None, 4096)
    yield pool
    pool.close()


def test_a_runaway_template_stops_at_the_time_limit_and_the_pool_recovers(pool):
    runaway = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    pool.render(Job(template("<p>预热</p>"), "t.html", {"doc": DOC}, 5), timeout=60)  # the worker is up
    with pytest.raises(RenderError) as failure:
        pool.render(Job(template(runaway), "t.html", {"doc": DOC}, 5), timeout=1.5)
    assert "1.5 秒" in str(failure.value) and "时限" in str(failure.value)
    result = pool.render(Job(template("<p>恢复正常</p>"), "t.html", {"doc": DOC}, 5), timeout=60)
    assert result.pdf.startswith(b"%PDF")


def test_too_many_pages_are_refused(pool):
    body = "{% for i in range(40) %}<p style='break-after: page'>第{{ i }}页</p>{% endfor %}"
    with pytest.raises(RenderError) as failure:
        pool.render(Job(template(body), "t.html", {"doc": DOC}, 10), timeout=60)
    assert "超过 10 页的上限" in str(failure.value)


def test_environment_has_no_dangerous_globals():
    env = make_environment()
    assert not {"os", "open", "config", "request", "session", "g"} & set(env.globals)


@pytest.mark.parametrize("payload", ['{{ "%0100000000d" % 1 }}', '{{ "%*d" % (100000000, 1) }}',
                                     '{{ "{:>100000000}".format(1) }}', '{{ "x" | center(100000000) }}',
                                     '{{ "%0100000000d" | format(1) }}', '{{ "x" | indent(100000000) }}',
                                     '{{ ("x" * 100000) | replace("x", "y" * 1000) }}',
                                     '{{ "{:{w}}".format("a", w=50000000) }}',
                                     '{{ ("\\n" * 100000) | indent("x" * 2000, blank=True) }}'])
def test_other_string_builders_are_bounded(renderer, payload):
    with pytest.raises(RenderError) as failure:
        renderer.html(template(payload), "t.html", {"doc": DOC})
    assert "过大" in str(failure.value)


def test_bounded_filters_still_work(renderer):
    html = renderer.html(template('{{ "%03d" % 7 }}|{{ "{:>4}".format(1) }}|{{ "ab" | replace("b", "c") }}|'
                                  '{{ "%s-%s" | format(1, 2) }}|{{ 7 % 3 }}|{{ "{:.2f}".format(3.14159) }}|'
                                  '{{ "{:,}".format(1234567) }}|{{ "%.1f%%" % 93.333 }}'), "t.html", {"doc": DOC})
    assert "007|   1|ac|1-2|1|3.14|1,234,567|93.3%" in html


def test_slow_growth_is_stopped_by_the_memory_cap_and_the_pool_recovers():
    doubling = ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
                "{{ ns.s | length }}")
    small = RenderPool(1, None, 1024)
    try:
        with pytest.raises(RenderError) as failure:
            small.render(Job(template(doubling), "t.html", {"doc": DOC}, 5), timeout=60)
        assert "内存" in str(failure.value)
        assert small.render(Job(template("<p>恢复</p>"), "t.html", {"doc": DOC}, 5), timeout=60).pdf.startswith(b"%PDF")
    finally:
        small.close()


def test_waiting_for_a_busy_worker_counts_against_the_deadline(pool):
    import time

    with pytest.raises(RenderError) as failure:
        pool.render(Job(template("<p>x</p>"), "t.html", {"doc": DOC}, 5), timeout=5, deadline=time.monotonic() - 1)
    assert "繁忙" in str(failure.value) or "时限" in str(failure.value)



def test_the_warm_up_document_renders(renderer: Renderer) -> None:
    """A render process lays this out before it reports ready; a layout change that broke it would
    only be logged there, so the check is here."""
    from server.documents.worker import WARM_CONTEXT, WARM_TEMPLATE

    result = renderer.render({"warm.html": WARM_TEMPLATE}, "warm.html", WARM_CONTEXT, max_pages=5)
    assert result.pdf.startswith(b"%PDF")
