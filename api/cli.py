"""The `guichet` command line.

Command groups are plugins: each is a click command registered under the
`guichet.commands` entry-point group (see pyproject.toml). The project's own commands
are registered the same way, so a third-party package can add one without touching
this file; `config` alone is built in (it reports the settings every command reads).
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import EntryPoint, entry_points

import click

BUILT_IN = {"config": "api.commands.config:config"}


class PluginGroup(click.Group):
    """Loads commands from entry points on demand, so `guichet search` stays fast."""

    ENTRY_POINT_GROUP = "guichet.commands"

    def _entry_points(self):
        found = {ep.name: ep for ep in entry_points(group=self.ENTRY_POINT_GROUP)}
        built_in = {name: EntryPoint(name, value, self.ENTRY_POINT_GROUP) for name, value in BUILT_IN.items()}
        return {**found, **built_in}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._entry_points()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        ep = self._entry_points().get(name)
        if ep is None:
            return None
        try:
            return ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            click.echo(f"guichet: cannot load command {name!r} ({ep.value}): {exc}", err=True)
            return None


@click.group(cls=PluginGroup)
@click.option("-v", "--verbose", is_flag=True, help="Show debug logs.")
@click.version_option(package_name="guichet")
def cli(verbose: bool) -> None:
    """guichet: sourced reply drafts from the service-public.fr fiches."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx: one line per HTTP request, URLs included (a query string may hold a question);
    # alembic: a dozen lines per start that would bury the admin key printed once.
    if not verbose:
        for name in ("httpx", "httpcore", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    cli(prog_name="guichet")


if __name__ == "__main__":
    main()
