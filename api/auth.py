"""API keys: random high-entropy secrets, stored as sha256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ROLES, ApiKey, utcnow

KEY_PREFIX = "gch_"
PREFIX_LENGTH = 12  # "gch_" + 8 characters, stored in clear to find the row and list keys
ENV_KEY_NAME = "GUICHET_ADMIN_KEY"
# How precisely a key's last use is recorded: a write at most once per period and key,
# not one per request.
LAST_USED_RESOLUTION = timedelta(hours=1)


class InvalidRole(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's row ID, its name and role."""

    key_id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_role(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(session: Session, role: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key; the clear key is returned once and never stored."""
    if role not in ROLES:
        raise InvalidRole(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    key = generate_key()
    row = ApiKey(name=name or role, role=role, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key))
    session.add(row)
    session.flush()
    return row, key


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal for a presented key, or None if unknown or revoked; the key's
    `last_used_at` is brought up to date (to LAST_USED_RESOLUTION) in the session."""
    if not key or len(key) > 200:
        return None
    presented = hash_key(key)
    rows = session.scalars(select(ApiKey).where(ApiKey.prefix == key[:PREFIX_LENGTH])).all()
    for row in rows:
        if hmac.compare_digest(row.key_hash, presented) and row.active:
            _note_use(row)
            return Principal(key_id=row.id, name=row.name, role=row.role)
    return None


def _note_use(row: ApiKey) -> None:
    now = utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite gives naive UTC datetimes back
        last = last.replace(tzinfo=timezone.utc)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        row.last_used_at = now


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.revoked_at.is_(None))
    if key_id_or_prefix.isdigit():
        query = query.where(ApiKey.id == int(key_id_or_prefix))
    else:
        query = query.where(ApiKey.prefix == key_id_or_prefix[:PREFIX_LENGTH])
    row = session.scalars(query).first()
    if row is not None:
        row.revoked_at = utcnow()
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def sync_env_admin_key(session: Session, key: str | None) -> None:
    """Make GUICHET_ADMIN_KEY a valid admin key (its hash only); revoke a replaced one."""
    wanted = hash_key(key) if key else None
    for row in session.scalars(select(ApiKey).where(ApiKey.name == ENV_KEY_NAME, ApiKey.revoked_at.is_(None))):
        if row.key_hash != wanted:
            row.revoked_at = utcnow()
    if key and session.scalars(select(ApiKey).where(ApiKey.key_hash == wanted)).first() is None:
        session.add(ApiKey(name=ENV_KEY_NAME, role="admin", prefix=key[:PREFIX_LENGTH], key_hash=wanted))


def bootstrap_admin_key(session: Session) -> str | None:
    """On first start (no active admin key at all), create one; return it to print once."""
    exists = session.scalars(select(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))).first()
    if exists is not None:
        return None
    _row, key = create_key(session, "admin", "first admin")
    return key
