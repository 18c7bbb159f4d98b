"""One index build at a time across processes and machines: a lock row in the database.

Every build, from the API of any worker or from `guichet ingest`, takes the row
`build_locks.index` with a compare-and-set UPDATE (atomic on SQLite and PostgreSQL) and
keeps it fresh with a heartbeat. A holder whose heartbeat is older than `stale_after_s`,
or a process of this host that no longer exists, has lost the lock: the next build takes
it over, so a killed build never blocks the index for good.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from api.db import transaction
from api.models import BuildLockRow, utcnow

log = logging.getLogger(__name__)

LOCK_NAME = "index"
HEARTBEAT_S = 5.0
STALE_AFTER_S = 30.0


class BuildLocked(RuntimeError):
    """Another build holds the lock; the message says which and since when."""


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _local_process_gone(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; they were written in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


@dataclass(frozen=True)
class Holder:
    owner: str
    origin: str | None
    run_id: int | None
    acquired_at: datetime | None
    heartbeat_at: datetime | None

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id is not None else ""
        since = self.acquired_at.isoformat(timespec="seconds") if self.acquired_at else "?"
        return f"a reindex is already running ({run}started by {self.origin or '?'} on {self.owner} at {since})"


class BuildLock:
    def __init__(self, sessions, *, owner: str | None = None, stale_after_s: float = STALE_AFTER_S,
                 heartbeat_s: float = HEARTBEAT_S):
        self.sessions = sessions
        self.owner = owner or new_owner()
        self.stale_after_s = stale_after_s
        self.heartbeat_s = heartbeat_s
        self._beating: threading.Event | None = None

    def holder(self) -> Holder | None:
        """The live holder, or None when the lock is free (or its holder is gone)."""
        with self.sessions() as session:
            row = session.get(BuildLockRow, LOCK_NAME)
            if row is None or row.owner is None or self._lost(row):
                return None
            return Holder(row.owner, row.origin, row.run_id, _aware(row.acquired_at), _aware(row.heartbeat_at))

    def _lost(self, row: BuildLockRow) -> bool:
        heartbeat = _aware(row.heartbeat_at)
        stale = heartbeat is None or heartbeat < utcnow() - timedelta(seconds=self.stale_after_s)
        return stale or _local_process_gone(row.owner)

    def acquire(self, origin: str) -> None:
        """Take the lock for `origin` (api | cli), or raise BuildLocked naming the holder."""
        with self.sessions() as session:
            row = session.get(BuildLockRow, LOCK_NAME)
            if row is None:
                raise RuntimeError("the build_locks table has no 'index' row: run the migrations")
            gone_owner = row.owner if row.owner is not None and self._lost(row) else None
        now = utcnow()
        free = or_(BuildLockRow.owner.is_(None),
                   BuildLockRow.heartbeat_at < now - timedelta(seconds=self.stale_after_s))
        if gone_owner is not None:
            free = or_(free, BuildLockRow.owner == gone_owner)
        with transaction(self.sessions) as session:
            taken = session.execute(
                update(BuildLockRow).where(BuildLockRow.name == LOCK_NAME, free)
                .values(owner=self.owner, origin=origin, run_id=None, acquired_at=now, heartbeat_at=now)
            ).rowcount
        if taken != 1:
            holder = self.holder()
            raise BuildLocked(holder.describe() if holder else "a reindex is already running")

    def set_run(self, run_id: int) -> None:
        self._update_own(run_id=run_id)

    def beat(self) -> bool:
        """Refresh the heartbeat; False if the lock is no longer ours."""
        return self._update_own(heartbeat_at=utcnow())

    def release(self) -> None:
        self.stop_heartbeat()
        self._update_own(owner=None, origin=None, run_id=None, acquired_at=None, heartbeat_at=None)

    def _update_own(self, **values) -> bool:
        with transaction(self.sessions) as session:
            return session.execute(
                update(BuildLockRow).where(BuildLockRow.name == LOCK_NAME, BuildLockRow.owner == self.owner)
                .values(**values)
            ).rowcount == 1

    def start_heartbeat(self) -> None:
        stop = self._beating = threading.Event()

        def beat_until_stopped():
            while not stop.wait(self.heartbeat_s):
                try:
                    if not self.beat():
                        log.error("build lock lost: another build took it over")
                        return
                except SQLAlchemyError as exc:  # the database is back soon, or the lock goes stale
                    log.warning("build lock heartbeat failed: %s", type(exc).__name__)

        threading.Thread(target=beat_until_stopped, name="build-lock-heartbeat", daemon=True).start()

    def stop_heartbeat(self) -> None:
        if self._beating is not None:
            self._beating.set()
            self._beating = None
