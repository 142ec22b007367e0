"""Imports every model so that SQLAlchemy's metadata (and Alembic) knows all tables."""
from server.auth.models import ApiToken, User
from server.documents.models import DocumentCounter, DocumentTemplateVersion, IssuedDocument
from server.org.models import OrgUnit
from server.records.models import AuditEntry, NumberCounter, Record, RecordRoute
from server.rules.models import Accountability, AwardIneligibility, Decision, Notification, Task, Veto
from server.specs.models import ConfigState, FormVersion

__all__ = ["ApiToken", "User", "OrgUnit", "AuditEntry", "NumberCounter", "Record", "RecordRoute", "ConfigState", "FormVersion",
           "DocumentCounter", "DocumentTemplateVersion", "IssuedDocument",
           "Accountability", "AwardIneligibility", "Decision", "Notification", "Task", "Veto"]
