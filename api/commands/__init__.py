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


def guichet_command() -> str:
    """How to type `guichet` from here: the bare name when it is on PATH (as this very
    program), else the full path of the virtual environment's script."""
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "guichet"
    found = shutil.which("guichet")
    if found and (not script.exists() or Path(found).resolve() == script.resolve()):
        return "guichet"
    return str(script) if script.exists() else f"{sys.executable} -m api.cli"
