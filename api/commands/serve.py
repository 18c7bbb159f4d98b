"""`guichet serve`: the API and the agents' page."""

from __future__ import annotations

import click

from api.settings import ApiSettings


def first_start_admin_key(settings: ApiSettings) -> str | None:
    """Create the first admin key when the database has none (and none comes from the env)."""
    from api.auth import bootstrap_admin_key
    from api.db import create_db_engine, migrate, session_factory, transaction

    if settings.admin_key is not None:
        return None
    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine)
        with transaction(session_factory(engine)) as session:
            return bootstrap_admin_key(session)
    finally:
        engine.dispose()


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default GUICHET_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default GUICHET_PORT or 8000).")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Server processes (default GUICHET_WORKERS or 1; e.g. the number of CPU cores).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Open the index and the database, then serve the API and the web page."""
    import uvicorn

    from api.app import create_app
    from api.commands import command_settings, guichet_command

    overrides = {k: v for k, v in (("host", host), ("port", port), ("workers", workers)) if v is not None}
    root = command_settings()
    settings = root.api.model_copy(update=overrides)
    admin_key = first_start_admin_key(settings)
    if settings.workers == 1:
        app = create_app(root.model_copy(update={"api": settings}))  # opened when uvicorn starts it
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    click.echo(f"guichet: open http://{shown_host}:{settings.port}/ (API docs: /docs; content team: "
               f"/contenu.html); data in {root.data_dir}")
    if admin_key:
        # Printed once on stdout, never logged: only its hash is stored.
        click.echo("First start: an admin key was created. Store it now, it will not be shown again:")
        click.echo(f"  {admin_key}")
        click.echo(f"Keys for agents and content teams: {guichet_command()} keys create --role agent|content")
    click.echo("", nl=True)
    if settings.workers == 1:
        uvicorn.run(app, host=settings.host, port=settings.port, access_log=False, log_level="info")
    else:  # each worker process builds its own app from the same GUICHET_* environment
        uvicorn.run("api.app:create_app", factory=True, workers=settings.workers, host=settings.host,
                    port=settings.port, access_log=False, log_level="info")
