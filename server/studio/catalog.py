"""What the studio lists: the files of a configuration, grouped by kind, with their titles in Chinese."""
from __future__ import annotations

import json
from dataclasses import dataclass

from server.specs.releases import Tree

PARAMETERS = "rules/parameters.json"

#: (kind, title, what belongs to it), in the order the studio shows them.
KINDS: tuple[tuple[str, str, str], ...] = (
    ("forms", "台账（表单）", "forms/"),
    ("rules", "规则与参数", "rules/ facts/"),
    ("workflows", "流程", "workflows/"),
    ("documents", "公文", "documents/"),
    ("org", "组织机构", "org/"),
    ("calendar", "工作日历", "calendar/"),
    ("dashboard", "统计分析", "dashboard.json"),
)
_FOLDER_KIND = {"forms": "forms", "rules": "rules", "facts": "rules", "workflows": "workflows",
                "documents": "documents", "org": "org", "calendar": "calendar"}
_FILE_TITLES = {"org/units.json": "单位", "org/posts.json": "职务", PARAMETERS: "政策参数",
                "dashboard.json": "统计项"}


@dataclass(frozen=True)
class Entry:
    path: str
    title: str
    language: str  # json | html | css: how the editor highlights it


@dataclass(frozen=True)
class Section:
    kind: str
    title: str
    entries: list[Entry]


def kind_of(path: str) -> str:
    return _FOLDER_KIND.get(path.split("/", 1)[0], "dashboard" if path == "dashboard.json" else "other")


def language_of(path: str) -> str:
    return path.rsplit(".", 1)[-1] if path.endswith((".html", ".css")) else "json"


def title_of(path: str, tree: Tree) -> str:
    """A file's Chinese title: its own ``title`` (a form's, a workflow's, a document's), or a fixed name."""
    if path in _FILE_TITLES:
        return _FILE_TITLES[path]
    if path.startswith("documents/") and not path.endswith("document.json"):
        folder = path.rsplit("/", 1)[0]
        own = _own_title(tree.get(f"{folder}/document.json", ""))
        what = "模板" if path.endswith(".html") else "样式"
        return f"{own}（{what}）" if own else path
    if path.startswith("calendar/"):
        return f"{path.rsplit('/', 1)[-1].removesuffix('.json')} 年节假日与调休"
    prefix = "事实：" if path.startswith("facts/") else ""
    own = _own_title(tree.get(path, ""))
    return f"{prefix}{own}" if own else path


def _own_title(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return ""
    title = document.get("title") if isinstance(document, dict) else None
    return title if isinstance(title, str) else ""


def sections(tree: Tree) -> list[Section]:
    """The files of ``tree`` by kind (kinds without files are kept, so that one can be added)."""
    grouped: dict[str, list[Entry]] = {kind: [] for kind, _, _ in KINDS}
    grouped["other"] = []
    for path in sorted(tree):
        grouped[kind_of(path)].append(Entry(path, title_of(path, tree), language_of(path)))
    titled = [Section(kind, title, grouped[kind]) for kind, title, _ in KINDS]
    return titled + ([Section("other", "其他", grouped["other"])] if grouped["other"] else [])
