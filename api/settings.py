"""Every setting of guichet in one root, loaded once per process by `load_settings`.

    settings = load_settings()
    settings.data_dir, settings.retrieval.index_dir, settings.api.database_url, ...

Each package owns its section type (ingest.settings, retrieval.settings,
generation.settings, and ApiSettings here); this module, at the top of the dependency
order, assembles them. Variable names: the section's prefix and the field name, e.g.
GUICHET_INDEX_DIR (retrieval.index_dir), GUICHET_LLM_BASE_URL (llm.base_url),
GUICHET_GENERATION_MIN_SUPPORT (generation.min_support); no two fields share a name.

Where values come from, the first found winning:
1. the process environment;
2. one `.env` file: GUICHET_ENV_FILE if set (empty: none), else `.env` of the source
   checkout the code runs from, else `$XDG_CONFIG_HOME/guichet/.env`
   (`~/.config/guichet/.env`); never the working directory's;
3. the data directory (GUICHET_DATA_DIR, default ingest.environment.default_data_dir)
   for the index, the database, the caches and the exported models;
4. the field's default.

Relative paths are made absolute once, at load: those of the environment against the
directory the command was started in, those of the `.env` file against its folder.
"""

from __future__ import annotations

import json
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from dotenv import dotenv_values
from pydantic import BaseModel, Field, PrivateAttr, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from generation.settings import GenerationSettings, LLMSettings
from ingest.environment import (
    DATA_DIR_PART,
    bundled_sample,
    default_data_dir,
    derive_from_data_dir,
    under_data_dir,
)
from ingest.settings import IngestSettings
from retrieval.settings import RetrievalSettings

ENV_FILE_VARIABLE = "GUICHET_ENV_FILE"
DATA_DIR_VARIABLE = "GUICHET_DATA_DIR"


class ApiSettings(BaseModel):
    """The HTTP server, its database and its limits: the `api` section.
    Environment: GUICHET_<FIELD>."""

    env_prefix: ClassVar[str] = "GUICHET_"

    database_url: str = under_data_dir("guichet.db", as_sqlite_url=True)
    # An admin key provided by automation (kept out of the database; only its hash is stored).
    admin_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Server processes: each opens the index and serves requests (set to the CPU cores to
    # use them all; the rate limit then counts per process).
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    # A longer message (or final text) is refused with a 422. The drafter then reads only
    # the first generation.analysed_message_chars of an accepted one.
    max_message_chars: int = Field(default=20_000, gt=0)
    rate_limit_per_minute: int = Field(default=120, gt=0)  # per API key
    # Citizen message text and the text finally sent are cleared after this many days.
    retention_days: int = Field(default=30, ge=0)
    # Source reindexed by POST /api/reindex (same meaning as `guichet ingest --source`).
    reindex_source: str = Field(default_factory=bundled_sample)
    readiness_timeout_s: float = 2.0
    cors_origins: list[str] = Field(default_factory=list)


SECTIONS: dict[str, type[BaseModel]] = {
    "ingest": IngestSettings,
    "retrieval": RetrievalSettings,
    "generation": GenerationSettings,
    "llm": LLMSettings,
    "api": ApiSettings,
}


class SettingsError(ValueError):
    """A setting that cannot be used; the message names its variable and where it came from."""


@dataclass(frozen=True)
class Source:
    """Where an effective value came from."""

    kind: str  # "default", "data_dir", "env" or ".env"
    variable: str | None = None
    env_file: Path | None = None

    def __str__(self) -> str:
        if self.kind == "env":
            return "environment"
        if self.kind == ".env":
            return f".env ({self.env_file})"
        return "data directory" if self.kind == "data_dir" else "default"

    def names(self, variable: str) -> str:
        """How an error names the value: its variable and where it was set."""
        return f"{variable} ({self})"


@dataclass(frozen=True)
class RawValue:
    text: str
    source: Source
    base: Path  # relative paths are resolved against this folder


class GuichetSettings(BaseModel):
    """The settings root: the data directory and one section per package."""

    data_dir: Path = Field(default_factory=default_data_dir)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    _sources: dict[str, Source] = PrivateAttr(default_factory=dict)
    _env_file: Path | None = PrivateAttr(default=None)

    def source_of(self, dotted: str) -> Source:
        """`dotted`: "data_dir" or "<section>.<field>", e.g. "api.port"."""
        return self._sources.get(dotted, Source("default"))

    @property
    def env_file(self) -> Path | None:
        """The `.env` file looked for (it may not exist)."""
        return self._env_file


def variable_of(section: str, name: str) -> str:
    """The environment variable of a field, e.g. ("llm", "base_url") -> GUICHET_LLM_BASE_URL."""
    return f"{SECTIONS[section].env_prefix}{name}".upper()


def environment_variables() -> dict[str, tuple[str, str]]:
    """Variable name -> (section, field), for every field of every section."""
    variables: dict[str, tuple[str, str]] = {}
    for section, model in SECTIONS.items():
        for name in model.model_fields:
            variable = variable_of(section, name)
            if variable in variables:
                raise RuntimeError(f"{variable} would set both {variables[variable]} and {(section, name)}")
            variables[variable] = (section, name)
    return variables


def load_settings(environ: typing.Mapping[str, str] | None = None, cwd: Path | None = None) -> GuichetSettings:
    """The effective settings of this process (see the module's docstring for the rules).
    Raises SettingsError naming the variable of a value that cannot be used."""
    environ = os.environ if environ is None else environ
    cwd = Path(cwd or os.getcwd()).resolve()
    env_file = env_file_location(environ, cwd)
    raw = _raw_values(environ, cwd, env_file)
    data_dir, data_dir_source = _data_dir(raw)
    values: dict[str, Any] = {"data_dir": data_dir}
    sources = {"data_dir": data_dir_source}
    for variable, (section, name) in environment_variables().items():
        field = SECTIONS[section].model_fields[name]
        value, source = _field_value(section, name, field, raw.get(variable), data_dir)
        if source.kind != "default":
            values.setdefault(section, {})[name] = value
            sources[f"{section}.{name}"] = source
    try:
        settings = GuichetSettings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, sources)) from None
    settings._sources, settings._env_file = sources, env_file
    return settings


def env_file_location(environ: typing.Mapping[str, str], cwd: Path) -> Path | None:
    configured = environ.get(ENV_FILE_VARIABLE)
    if configured is not None:
        if not configured.strip():
            return None
        path = _absolute(configured, cwd)
        if not path.is_file():
            raise SettingsError(f"{ENV_FILE_VARIABLE}={configured}: no such file ({path})")
        return path
    from ingest.environment import source_checkout

    checkout = source_checkout()
    if checkout is not None:
        return checkout / ".env"
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home).expanduser() / "guichet" / ".env"


def _raw_values(environ: typing.Mapping[str, str], cwd: Path, env_file: Path | None) -> dict[str, RawValue]:
    """GUICHET_* values by upper-case name: the `.env` file's, then the environment's over them."""
    found: dict[str, RawValue] = {}
    if env_file is not None and env_file.is_file():
        for name, text in dotenv_values(env_file).items():
            if name.upper().startswith("GUICHET_") and text is not None:
                found[name.upper()] = RawValue(text, Source(".env", name.upper(), env_file), env_file.parent)
    for name, text in environ.items():
        if name.upper().startswith("GUICHET_"):
            found[name.upper()] = RawValue(text, Source("env", name.upper()), cwd)
    return found


def _data_dir(raw: dict[str, RawValue]) -> tuple[Path, Source]:
    found = raw.get(DATA_DIR_VARIABLE)
    if found is None or not found.text.strip():
        return default_data_dir(), Source("default")
    return _absolute(found.text, found.base), found.source


def _field_value(section: str, name: str, field: FieldInfo, found: RawValue | None,
                 data_dir: Path) -> tuple[Any, Source]:
    if found is not None:
        return _parse(section, name, field, found), found.source
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if DATA_DIR_PART in extra:
        return derive_from_data_dir(data_dir, extra[DATA_DIR_PART], bool(extra["as_sqlite_url"])), Source("data_dir")
    return None, Source("default")


def _parse(section: str, name: str, field: FieldInfo, found: RawValue) -> Any:
    """The raw text as the field expects it: JSON for lists, absolute paths."""
    text = found.text
    if _is_complex(field.annotation):
        try:
            return json.loads(text)
        except ValueError:
            raise SettingsError(f"{found.source.names(found.source.variable)}: expected JSON, "
                                f"e.g. [\"a\", \"b\"]") from None
    if _allows(field.annotation, Path):
        return _absolute(text, found.base) if text.strip() else None
    if (section, name) == ("api", "database_url"):
        return _absolute_sqlite_url(text, found.base)
    if (section, name) == ("api", "reindex_source"):
        return _absolute_source(text, found.base)
    return text


def _is_complex(annotation: Any) -> bool:
    return any(typing.get_origin(arg) in (list, dict, set, tuple) for arg in _union_args(annotation))


def _allows(annotation: Any, kind: type) -> bool:
    return kind in _union_args(annotation)


def _union_args(annotation: Any) -> tuple:
    args = typing.get_args(annotation)
    return args if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)


def _absolute(text: str, base: Path) -> Path:
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _absolute_sqlite_url(url: str, base: Path) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # refused with its own message when the engine is created
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return url
    if Path(database).is_absolute():
        return url
    return parsed.set(database=str(_absolute(database, base))).render_as_string(hide_password=False)


def _absolute_source(spec: str, base: Path) -> str:
    from ingest.sources import names_a_path

    return str(_absolute(spec, base)) if names_a_path(spec) else spec


def _explain(error: ValidationError, sources: dict[str, Source]) -> str:
    lines = []
    for problem in error.errors():
        dotted = ".".join(str(part) for part in problem["loc"][:2])
        lines.append(f"{_describe(dotted, sources)}: {problem['msg']}")
    return "invalid settings: " + "; ".join(lines)


def _describe(dotted: str, sources: dict[str, Source]) -> str:
    source = sources.get(dotted, Source("default"))
    if dotted == "data_dir":
        return source.names(DATA_DIR_VARIABLE)
    section, _, name = dotted.partition(".")
    return source.names(variable_of(section, name)) if section in SECTIONS else dotted
