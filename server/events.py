"""In-process events: the seam where records, rules and workflows meet without importing upward.

The records service publishes; rules and workflows subscribe when the app is built. Two phases:

* ``RECORD_PREPARING`` runs inside the transaction before an update is stored: a subscriber may fill
  in fields derived from the others (a deadline computed from a listing date), which are then saved
  and audited with the person's change, or refuse a change (ValidationFailed). It must not write.
* ``RECORD_SAVING`` runs *inside* the save's write transaction, after the record row is flushed.
  Subscribers write in the same transaction (a new record enters its workflow's initial state,
  its timers start), so a save and what it must bring with it commit together or not at all: an
  exception aborts the save.
* ``RECORD_SAVED`` and ``RECORD_TRANSITIONED`` run *after* the commit (policy: rulesets evaluate the
  saved data). A subscriber's failure is logged and never undoes the person's save.
* ``FORMS_PUBLISHED`` runs after a configuration publish committed and was adopted: the records
  service redoes the search texts of forms whose protections (``x-confidential``) changed.

Subscriptions are per process and idempotent (the same function subscribed twice runs once), so
building several apps in one process (tests) does not multiply them.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)

RECORD_PREPARING = "record.preparing"  # in the transaction, before data is stored: record=, data=, action=
RECORD_SAVING = "record.saving"        # in the transaction: record=, user=, created=, previous= (old data or None)
RECORD_SAVED = "record.saved"          # after commit: record=, user=, created=
RECORD_TRANSITIONED = "record.transitioned"  # after commit: record=, user=, transition=, from_state=, to_state=
FORMS_PUBLISHED = "forms.published"          # after a publish committed: form_ids= (forms given a new version)

_AFTER_COMMIT = frozenset({RECORD_SAVED, RECORD_TRANSITIONED, FORMS_PUBLISHED})
_subscribers: dict[str, list[Callable[..., Any]]] = {}


def subscribe(event: str, handler: Callable[..., Any]) -> None:
    handlers = _subscribers.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def publish(event: str, **payload: Any) -> None:
    """Call every subscriber of ``event`` in subscription order.

    In-transaction events propagate exceptions (the caller's transaction rolls back); after-commit
    events log them and carry on with the other subscribers.
    """
    for handler in list(_subscribers.get(event, ())):
        if event not in _AFTER_COMMIT:
            handler(**payload)
            continue
        try:
            handler(**payload)
        except Exception:  # noqa: BLE001 - the save stands; the failure is in the log for the administrator
            log.exception("事件 %s 的处理失败（%s）", event, getattr(handler, "__qualname__", handler))
