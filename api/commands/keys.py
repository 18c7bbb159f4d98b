"""`guichet keys create|list|revoke`: API keys of the server's database."""

from __future__ import annotations

import click

from api.auth import InvalidRole, create_key, list_keys, revoke_key
from api.commands import command_settings
from api.db import create_db_engine, migrate, session_factory, transaction
from api.models import ROLES


def _sessions(database_url: str | None):
    engine = create_db_engine(database_url or command_settings().api.database_url)
    migrate(engine)
    return session_factory(engine)


@click.group()
@click.option("--database-url", default=None,
              help="Database (default: GUICHET_DATABASE_URL, else guichet.db in the data directory).")
@click.pass_context
def keys(ctx: click.Context, database_url: str | None) -> None:
    """Create, list and revoke API keys (roles: agent, content, admin)."""
    ctx.obj = database_url


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="agent, content or admin.")
@click.option("--name", default="", help="Who or what uses the key (shown in listings).")
@click.pass_obj
def create(database_url: str | None, role: str, name: str) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    try:
        with transaction(_sessions(database_url)) as session:
            row, key = create_key(session, role, name)
    except InvalidRole as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"Key {row.id} ({row.role}, {row.name}) — shown once, store it now:")
    click.echo(key)


@keys.command("list")
@click.pass_obj
def list_(database_url: str | None) -> None:
    """Keys with their ID, prefix, role, name and state (never the key itself)."""
    with transaction(_sessions(database_url)) as session:
        rows = list_keys(session)
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            used = f"last used {row.last_used_at:%Y-%m-%d %H:00}" if row.last_used_at else "never used"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.role}\t{row.name}\t{row.created_at:%Y-%m-%d}\t{state}\t{used}")
    if not rows:
        click.echo("no keys")


@keys.command("revoke")
@click.argument("key_id_or_prefix")
@click.pass_obj
def revoke(database_url: str | None, key_id_or_prefix: str) -> None:
    """Revoke a key by its ID or its prefix (as `keys list` shows them)."""
    with transaction(_sessions(database_url)) as session:
        row = revoke_key(session, key_id_or_prefix)
    if row is None:
        raise click.ClickException(f"no active key with ID or prefix {key_id_or_prefix!r}")
    click.echo(f"revoked key {row.id} ({row.role}, {row.name})")
