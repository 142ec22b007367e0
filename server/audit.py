"""Writing the audit log: every change and every security event goes through :func:`log_event`.

The table is append-only (an ORM guard and database triggers); this is the one place that adds rows.
"""
from __future__ import annotations

from typing import Any

from server.extensions import db
from server.records.models import AuditEntry


#: What each audit action is called on the pages (history, the admin's audit log); the identifier
#: itself is for administrators only (shown beside it there, on hover elsewhere).
ACTION_TITLES = {
    "login": "登录", "login_failed": "登录失败", "login_locked": "登录被锁定", "password_change": "修改密码",
    "create": "登记", "update": "修改", "rule_update": "按规则修改", "route": "分流", "unroute": "撤销分流",
    "transition": "办理", "timer": "计时提醒", "workflow_migrate": "流程迁移", "import": "导入",
    "record_view": "查看记录数据", "inbox.close": "关闭待办",
    "document.issue": "签发文书", "document.download": "下载文书", "document.revoke": "撤销文书",
    "document_number": "登记文号",
    "user_create": "新建用户", "user_update": "修改用户", "user_disable": "停用用户", "user_enable": "启用用户",
    "password_reset": "重置密码", "tokens_revoke": "吊销全部令牌", "token_create": "创建令牌",
    "token_revoke": "吊销令牌", "org_import": "导入单位表",
    "config_publish": "发布配置", "config_restore": "恢复配置版本",
}


#: A line of a ``rule_update`` audit detail that tells of a value a rule replaced
#: ("规则『…』已将 牵头单位 由 X 改为 Y"); the record page shows such lines to the person who saved.
POLICY_NOTICE_START = "规则『"


def action_title(action: str) -> str:
    """The Chinese name of an audit action (an unknown one: 其他操作, never the identifier)."""
    return ACTION_TITLES.get(action, "其他操作")


def log_event(action: str, object_type: str, *, object_id: int | None = None, user_id: int | None = None,
              subject: str | None = None, detail: str = "", diff: list[dict[str, Any]] | None = None,
              form_id: str | None = None, record_version: int | None = None) -> AuditEntry:
    """Add one audit row to the current transaction (the caller commits with its own change)."""
    entry = AuditEntry(action=action, object_type=object_type, object_id=object_id, user_id=user_id,
                       subject=subject, detail=detail, diff=diff or [], form_id=form_id,
                       record_version=record_version)
    db.session.add(entry)
    return entry


def release_published(release: Any) -> None:
    """The audit entry of a configuration release published outside the studio (the files at start or
    when saved, ``config reload`` or ``import``, an org sheet import): who or what, from where, the note."""
    from server.specs.releases import SOURCE_TITLES

    detail = f"{SOURCE_TITLES.get(release.source, release.source)}，{release.published_by or '系统'}"
    log_event("config_publish", "config_release", object_id=release.seq, subject=f"配置版本 {release.seq}",
              detail=f"{detail}。{release.note}" if release.note else f"{detail}。")
