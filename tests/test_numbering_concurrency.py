"""Gap-free record numbers while many saves run at once (threads with their own connections)."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from server.auth.models import User
from server.extensions import db
from server.records import service
from server.records.models import Record
from tests.test_records import GOOD

THREADS, PER_THREAD = 8, 6


def test_concurrent_saves_get_gap_free_unique_numbers(app, user):
    user_id, failures = user.id, []
    barrier = threading.Barrier(THREADS)

    def worker() -> None:
        with app.app_context():
            me = db.session.get(User, user_id)
            barrier.wait()
            for _ in range(PER_THREAD):
                try:
                    service.create_record("incident", GOOD, me)
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    failures.append(repr(exc))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    db.session.rollback()  # end this thread's read snapshot
    numbers = db.session.scalars(sa.select(Record.number)).all()
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert seqs == list(range(1, THREADS * PER_THREAD + 1))
