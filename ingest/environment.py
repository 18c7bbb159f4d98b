"""What the process runs with: the CPUs it may use and the data directory.

The data directory holds everything guichet writes: the index, the SQLite database and
the caches (downloaded sources, exported models). Its default is absolute, so a command
finds the same files from any working directory:

- `data/` of the source checkout when the code runs from one (the folder beside
  pyproject.toml: what `make run` and the tests use);
- else `$XDG_DATA_HOME/guichet` (by default `~/.local/share/guichet`).

GUICHET_DATA_DIR replaces it (see api.settings, which loads every setting).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field

PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, e.g. under taskset or a
    container's cpuset), not the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def source_checkout() -> Path | None:
    """The checkout the code runs from (editable install, PYTHONPATH), if any."""
    return PACKAGE_PARENT if (PACKAGE_PARENT / "pyproject.toml").is_file() else None


@lru_cache(maxsize=1)
def default_data_dir() -> Path:
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "data"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser().resolve() / "guichet"


def bundled_sample() -> str:
    """The sample fiches of the checkout (the default source to index)."""
    checkout = source_checkout()
    return str(checkout / "data" / "sample") if checkout else "data/sample"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


DATA_DIR_PART = "under_data_dir"  # json_schema_extra key read by api.settings


def under_data_dir(part: str, *, as_sqlite_url: bool = False, description: str = "") -> Any:
    """A settings field whose default is `part` inside the data directory.

    A section built in code gets it under the default data directory; the settings
    root (api.settings.load_settings) derives it from GUICHET_DATA_DIR."""

    def default() -> Path | str:
        return derive_from_data_dir(default_data_dir(), part, as_sqlite_url)

    extra = {DATA_DIR_PART: part, "as_sqlite_url": as_sqlite_url}
    return Field(default_factory=default, description=description, json_schema_extra=extra)


def derive_from_data_dir(data_dir: Path, part: str, as_sqlite_url: bool) -> Path | str:
    path = data_dir / part
    return sqlite_url(path) if as_sqlite_url else path
