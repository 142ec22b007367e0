"""Jinja's template syntax errors told in Chinese, for ``config check`` and the admin.

Jinja words its errors in English ("unexpected '}'", "Encountered unknown tag 'endfo'"); whoever
edits a 公文 template reads Chinese. The common messages are translated by their shape; anything else
gets a Chinese explanation with Jinja's own words after it, so that nothing is lost.
"""
from __future__ import annotations

import re

_TAGS = re.compile(r"'([^']+)'")


def _tags(text: str) -> str:
    return "、".join("{% " + t + " %}" for t in _TAGS.findall(text))


def _looking_for(message: str) -> str:
    """"Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block ... is 'for'." """
    wanted = re.search(r"looking for the following tags: (.+?)\.(?: |$)", message)
    block = re.search(r"innermost block that needs to be closed is '([^']+)'", message)
    out = f"，这里应为 {_tags(wanted.group(1))}" if wanted else ""
    return out + (f"（尚未闭合的是 {block.group(1)} 块）" if block else "")


_SHAPES: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"^Unexpected end of template\.", re.I), lambda m, msg: "模板在块闭合之前就结束了" + _looking_for(msg)),
    (re.compile(r"^unexpected end of template, expected '([^']+)'", re.I),
     lambda m, msg: f"模板意外结束：缺少 {_END.get(m.group(1), m.group(1))}"),
    (re.compile(r"^Encountered unknown tag '([^']+)'", re.I),
     lambda m, msg: (f"此处不应出现 {{% {m.group(1)} %}}" if "looking for" in msg else f"不认识的标签 {{% {m.group(1)} %}}")
     + _looking_for(msg)),
    (re.compile(r"^expected token '([^']+)', got '([^']+)'", re.I),
     lambda m, msg: f"此处应为 {_END.get(m.group(1), repr(m.group(1)))}，实际为 '{m.group(2)}'"),
    (re.compile(r"^unexpected char '(.+)' at (\d+)", re.I), lambda m, msg: f"不认识的字符 '{m.group(1)}'"),
    (re.compile(r"^unexpected '([^']+)'", re.I), lambda m, msg: f"此处不应出现 '{m.group(1)}'（{{{{ }}}} 或 {{% %}} 是否成对？）"),
    (re.compile(r"^tag name expected", re.I), lambda m, msg: "{% 之后缺少标签名"),
    (re.compile(r"^Block '([^']+)' defined twice", re.I), lambda m, msg: f"块 {m.group(1)} 定义了两次"),
]
_END = {"end of print statement": "}}", "end of statement block": "%}", "end of comment": "#}",
        "name": "名称", "end of template": "模板结尾"}


def explain(message: str) -> str:
    """A Jinja ``TemplateSyntaxError`` message in Chinese."""
    for pattern, build in _SHAPES:
        match = pattern.search(message)
        if match:
            return build(match, message)  # type: ignore[operator]
    return f"无法解析，请检查 {{{{ }}}}、{{% %}} 是否成对、标签名是否写对（Jinja 提示：{message}）"
