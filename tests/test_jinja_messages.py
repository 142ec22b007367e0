"""Template syntax errors of ``config check`` explain in Chinese (issue 12 item 3)."""
from __future__ import annotations

import re

import pytest
from jinja2 import Environment, TemplateSyntaxError

from server.specs.jinja_messages import explain


def _message(source: str) -> str:
    with pytest.raises(TemplateSyntaxError) as caught:
        Environment().parse(source)
    return explain(caught.value.message or "")


@pytest.mark.parametrize("source, expected", [
    ("{{ a }", "此处不应出现 '}'（{{ }} 或 {% %} 是否成对？）"),
    ("{{ a", "模板意外结束：缺少 }}"),
    ("{% for x in y %}正文", "模板在块闭合之前就结束了，这里应为 {% endfor %}、{% else %}（尚未闭合的是 for 块）"),
    ("{% for x in y %}{% endif %}", "此处不应出现 {% endif %}，这里应为 {% endfor %}、{% else %}（尚未闭合的是 for 块）"),
    ("{% endfo %}", "不认识的标签 {% endfo %}"),
    ("{{ a b }}", "此处应为 }}，实际为 'b'"),
    ("{% %}", "{% 之后缺少标签名"),
])
def test_common_syntax_errors_are_told_in_chinese(source: str, expected: str) -> None:
    message = _message(source)
    assert message == expected
    words = set(re.findall(r"[A-Za-z]{2,}", re.sub(r"\{%[^%]*%\}", "", message)))
    assert words <= {"for", "if"}  # Jinja's own keywords, as the template spells them; no English sentences


def test_an_unknown_shape_keeps_jinjas_words_after_a_chinese_explanation() -> None:
    assert explain("something new").startswith("无法解析，请检查") and explain("something new").endswith("（Jinja 提示：something new）")
