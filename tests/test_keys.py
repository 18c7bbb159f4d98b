"""API keys: hashing, constant-time check, roles, the `guichet keys` commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.auth import (
    LAST_USED_RESOLUTION,
    authenticate,
    bootstrap_admin_key,
    create_key,
    hash_key,
    revoke_key,
    sync_env_admin_key,
)
from api.cli import cli
from api.db import create_db_engine, migrate, session_factory, transaction
from api.models import ApiKey


@pytest.fixture
def sessions(database_url):  # SQLite, then PostgreSQL
    engine = create_db_engine(database_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_keys_are_random_stored_hashed_and_checked(sessions):
    with transaction(sessions) as session:
        row, key = create_key(session, "content", "équipe contenu")
        _, other = create_key(session, "agent")
    assert key != other and len(key) >= 40
    with sessions() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
        assert hash_key(key) in stored and key not in stored
        principal = authenticate(session, key)
        assert principal.role == "content" and principal.name == "équipe contenu"
        assert authenticate(session, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert authenticate(session, "") is None and authenticate(session, "x" * 5000) is None
    with transaction(sessions) as session:
        assert revoke_key(session, str(row.id)) is not None
    with sessions() as session:
        assert authenticate(session, key) is None
        assert authenticate(session, other).role == "agent"


def test_a_keys_last_use_is_recorded_once_an_hour_not_on_every_request(sessions):
    with transaction(sessions) as session:
        row, key = create_key(session, "agent")
    assert row.last_used_at is None
    with transaction(sessions) as session:
        authenticate(session, key)
    with transaction(sessions) as session:
        first = session.get(ApiKey, row.id).last_used_at
        assert first is not None
        authenticate(session, key)
    with transaction(sessions) as session:
        stored = session.get(ApiKey, row.id)
        assert stored.last_used_at == first  # within the hour: not written again
        stored.last_used_at = first - LAST_USED_RESOLUTION - timedelta(minutes=1)
    with transaction(sessions) as session:
        authenticate(session, key)
    with sessions() as session:
        assert session.get(ApiKey, row.id).last_used_at.replace(tzinfo=None) > first.replace(tzinfo=None)


def test_first_start_creates_one_admin_key_and_env_key_works(sessions):
    with transaction(sessions) as session:
        first = bootstrap_admin_key(session)
    with transaction(sessions) as session:
        assert bootstrap_admin_key(session) is None, "only on the first start"
        assert authenticate(session, first).role == "admin"
        sync_env_admin_key(session, "gch_from-the-environment-0123456789abcdef")
    with transaction(sessions) as session:
        assert authenticate(session, "gch_from-the-environment-0123456789abcdef").role == "admin"
        sync_env_admin_key(session, "gch_a-new-environment-key-0123456789abcdef")
    with sessions() as session:
        assert authenticate(session, "gch_from-the-environment-0123456789abcdef") is None, "replaced"
        assert authenticate(session, "gch_a-new-environment-key-0123456789abcdef").role == "admin"


def test_keys_commands(database_url):
    url = database_url
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "--database-url", url, "create", "--role", "agent", "--name", "Alice"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("gch_")
    listed = runner.invoke(cli, ["keys", "--database-url", url, "list"])
    assert "Alice" in listed.output and "agent" in listed.output and key not in listed.output
    assert "active" in listed.output and "never used" in listed.output
    with transaction(session_factory(create_db_engine(url))) as session:
        authenticate(session, key)
    assert "last used" in runner.invoke(cli, ["keys", "--database-url", url, "list"]).output
    revoked = runner.invoke(cli, ["keys", "--database-url", url, "revoke", key[:12]])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in runner.invoke(cli, ["keys", "--database-url", url, "list"]).output
    again = runner.invoke(cli, ["keys", "--database-url", url, "revoke", key[:12]])
    assert again.exit_code != 0 and "no active key" in again.output
    bad_role = runner.invoke(cli, ["keys", "--database-url", url, "create", "--role", "root"])
    assert bad_role.exit_code != 0 and "root" in bad_role.output
