"""Imports every model so that SQLAlchemy's metadata (and Alembic) knows all tables."""
from server.auth.models import ApiToken, User, UserSession
from server.documents.models import DocumentCounter, DocumentTemplateVersion, IssuedDocument
from server.flow.models import RecordTimer, TickRun, TimerStep, WorkflowVersion
from server.inbox.models import InboxItem
from server.org.models import OrgUnit
from server.records.models import AuditEntry, NumberCounter, Record, RecordRoute, RecordTransition
from server.rules.models import Accountability, AwardIneligibility, Decision, Veto
from server.specs.models import ConfigState, FormVersion

__all__ = ["ApiToken", "User", "UserSession", "OrgUnit", "AuditEntry", "NumberCounter", "Record", "RecordRoute", "RecordTransition",
           "ConfigState", "FormVersion", "DocumentCounter", "DocumentTemplateVersion", "IssuedDocument",
           "Accountability", "AwardIneligibility", "Decision", "Veto", "InboxItem", "RecordTimer", "TickRun", "TimerStep",
           "WorkflowVersion"]
