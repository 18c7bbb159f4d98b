"""The project's own `guichet` commands (registered as entry points, see api.cli)."""

from __future__ import annotations

import click


def command_settings():
    """The settings of this command (api.settings.load_settings); a value that cannot be
    used stops it with a message naming its variable."""
    from api.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
