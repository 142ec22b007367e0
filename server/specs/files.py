"""Reading configuration files: JSON with positions, syntax errors in Chinese, and one routine that
takes a file through syntax, meta-schema and value rules. Every loader builds on this module, so none
of them imports another to read its files.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.specs.jsonpos import ParsedJson, parse_json, position_of, unescape_token
from server.specs.metaschema import describe, show

Problem = tuple[str, str]  # (JSON pointer, message)

_SYNTAX_REASONS = {
    "Expecting value": "此处应为一个值",
    "Expecting ',' delimiter": '此处应为逗号 ","',
    "Expecting ':' delimiter": '此处应为冒号 ":"',
    "Expecting property name enclosed in double quotes": "此处应为双引号括起的键名",
    "Unterminated string starting at": "字符串缺少结尾的双引号",
    "Invalid control character at": "字符串中不能直接出现控制字符（换行、制表符应写作 \\n、\\t）",
    "Invalid \\escape": "无效的转义序列",
    "Invalid \\u" + "X" * 4 + " escape": "无效的 \\u 转义（应为 \\u 加 4 位十六进制数）",
    "Extra data": "JSON 值结束后还有多余内容",
    "Illegal trailing comma before end of object": "对象的最后一项后面不能有逗号",  # Python 3.13+
    "Illegal trailing comma before end of array": "数组的最后一项后面不能有逗号",
}


def read_json(path: Path, file: str) -> ParsedJson | ConfigError:
    """Parse one file, or say why it is not a JSON document."""
    try:
        return parse_json(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return ConfigError(file, "", 1, 1, f"文件应为 UTF-8 编码，第 {exc.start + 1} 个字节无法按 UTF-8 解码")
    except json.JSONDecodeError as exc:
        return ConfigError(file, "", exc.lineno, exc.colno, syntax_message(exc))
    except RecursionError:
        return ConfigError(file, "", 1, 1, "JSON 嵌套层数过多")


def syntax_message(exc: json.JSONDecodeError) -> str:
    """``json``'s reason in Chinese, with what stands where a value or delimiter was expected."""
    reason = _SYNTAX_REASONS.get(exc.msg)
    if reason is None:
        match = re.fullmatch(r"(\S+) is not valid JSON", exc.msg)
        reason = f"{match.group(1)} 不是合法的 JSON 值" if match else exc.msg
    if exc.msg.startswith("Expecting"):
        reason += f"，实际为 {show(exc.doc[exc.pos])}" if exc.pos < len(exc.doc) else "，实际为文件结尾"
    return f"JSON 语法错误：{reason}"


def merge_problems(groups: list[list[Problem]]) -> list[Problem]:
    """Keep, for each pointer, only the problems of the first group that reported it.

    The groups go from the most to the least specific view of the same mistake (our meta-schema,
    then the standard one, then the value rules): ``"type": "strng"`` upsets both meta-schemas, but
    only our message lists the supported types.
    """
    kept: list[Problem] = []
    claimed: set[str] = set()
    for group in groups:
        kept += [problem for problem in group if problem[0] not in claimed]
        claimed |= {pointer for pointer, _ in group}
    return kept


def load_file(path: Path, file: str, validator: Draft202012Validator,
              semantics: Callable[[Any], list[Problem]]) -> tuple[Any, list[ConfigError]]:
    """The document of one configuration file (None when missing or not JSON) and every problem in it:
    JSON syntax, repeated keys, the meta-schema, then ``semantics`` (value rules as (pointer, message))."""
    if not path.is_file():
        return None, [ConfigError(file, "", 1, 1, f"缺少文件 {file}")]
    parsed = read_json(path, file)
    if isinstance(parsed, ConfigError):
        return None, [parsed]
    document = parsed.document
    duplicates = [(p, f"键 {show(unescape_token(p.rsplit('/', 1)[1]))} 重复出现，只有最后一个值有效")
                  for p in parsed.duplicate_keys]
    problems = duplicates + merge_problems([
        [pm for e in validator.iter_errors(document) for pm in describe(e)],
        semantics(document),
    ])
    errors = [ConfigError(file, p, *position_of(parsed.positions, p), m) for p, m in dict.fromkeys(problems)]
    return document, errors




def error_at(config_dir: Path, file: str, pointer: str, message: str) -> ConfigError:
    """A problem found by comparing files, located at ``pointer`` in ``file`` (relative to the
    configuration directory) like the problems of the file's own checks."""
    parsed = read_json(Path(config_dir) / file, file)
    where = position_of(parsed.positions, pointer) if isinstance(parsed, ParsedJson) else (1, 1)
    return ConfigError(file, pointer, *where, message)
