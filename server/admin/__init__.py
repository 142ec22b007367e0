"""The administration site at /admin (flask-admin, Bootstrap 4 from the installed package, no CDN).

For county administrators only (see :mod:`server.admin.base`). In Chinese: Flask-Babel runs with the
locale zh_Hans_CN so that flask-admin's own messages come from its shipped translation; our labels
are written in Chinese directly. Every form post carries the CSRF token of the site-wide
CSRFProtect (flask-admin renders ``csrf_token()`` into its forms), and the pages work under the
site's CSP (``script-src 'self'``): the few inline handlers of flask-admin's templates are replaced by
``static/admin.js`` and an override of ``admin/actions.html``.
"""
from __future__ import annotations

from pathlib import Path

import flask_admin
from flask import Blueprint, Flask
from flask_admin import Admin, expose
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy import func, select

from server.admin.audit_view import AuditLogView
from server.admin.base import BRAND, AdminHome
from server.admin.records_view import RecordView
from server.admin.studio_views import ConfigStudioView
from server.admin.tokens import TokenView
from server.admin.units import OrgImportView, OrgUnitView, allow_sheet_uploads
from server.admin.users import UserView
from server.auth.models import ApiToken, User
from server.extensions import babel, db
from server.org.models import OrgUnit
from server.records.models import AuditEntry, Record
from server.specs.models import ConfigRelease

LOCALE = "zh_Hans_CN"
TRANSLATIONS = Path(__file__).parent.parent / "translations"  # fills gaps in flask-admin's own catalog


class HomeView(AdminHome):
    @expose("/")
    def index(self):  # type: ignore[no-untyped-def]
        def count(model, *where):  # type: ignore[no-untyped-def]
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

        counts = {
            "users": count(User), "disabled": count(User, User.is_enabled.is_(False)),
            "tokens": count(ApiToken, ApiToken.revoked_at.is_(None)),
            "units": count(OrgUnit, OrgUnit.is_active.is_(True)),
            "records": count(Record), "audit": count(AuditEntry),
            "release": db.session.scalar(select(func.max(ConfigRelease.seq))),
        }
        return self.render("admin/app_home.html", counts=counts)


def init_admin(app: Flask) -> Admin:
    babel.init_app(app, default_locale=LOCALE, default_timezone="Asia/Shanghai")
    assets = Blueprint("admin_assets", __name__, static_folder=str(Path(__file__).parent / "static"),
                       static_url_path="/admin/assets")
    app.register_blueprint(assets)
    # flask-admin's templates under a second name (bootstrap4/admin/...), so that our overrides in
    # web/templates/admin/ can wrap the originals instead of copying them.
    app.register_blueprint(Blueprint("admin_originals", __name__,
                                     template_folder=str(Path(flask_admin.__file__).parent / "templates")))
    admin = Admin(app, name=BRAND, url="/admin", translations_path=str(TRANSLATIONS),
                  theme=Bootstrap4Theme(base_template="admin/app_base.html", fluid=True),
                  index_view=HomeView(name="概览", url="/admin", endpoint="admin"))
    admin.add_view(UserView(User, db, name="用户", endpoint="admin_users", url="users"))
    admin.add_view(TokenView(ApiToken, db, name="令牌", endpoint="admin_tokens", url="tokens"))
    admin.add_view(OrgUnitView(OrgUnit, db, name="单位", endpoint="admin_units", url="units"))
    admin.add_view(OrgImportView(name="导入单位表", endpoint="admin_org_import", url="org-import"))
    app.url_value_preprocessor(allow_sheet_uploads)  # the one post allowed past the 2 MB cap
    admin.add_view(AuditLogView(AuditEntry, db, name="审计日志", endpoint="admin_audit", url="audit"))
    admin.add_view(RecordView(Record, db, name="记录", endpoint="admin_records", url="records"))
    admin.add_view(ConfigStudioView(name="配置", endpoint="admin_config", url="config"))
    admin.add_link(MenuLink(name="返回工作台", endpoint="records.home"))
    return admin
