"""`guichet config`: the effective settings, where each value comes from, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import click
from pydantic import SecretStr

MASK = "********"
SECRET_WORDS = ("password", "secret", "token", "key")


def mask_url(url: str) -> str:
    """The URL with the password of its user part and secret query values masked
    (unchanged, to the character, when it holds none)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_name(k) for k, _ in pairs):
            query = urlencode([(k, MASK if _secret_name(k) else v) for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _secret_name(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def shown_value(name: str, value: Any) -> Any:
    """A value as `guichet config` shows it: JSON-ready, never a secret."""
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else ""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        if name.endswith("url"):
            return mask_url(value)
        return MASK if _secret_name(name) and value else value
    return value


def effective_settings(settings) -> dict:
    """{"env_file": …, "data_dir": {value, source}, "<section>": {"<field>": {value, variable, source}}}."""
    from api.settings import DATA_DIR_VARIABLE, SECTIONS, variable_of

    env_file = settings.env_file
    report: dict[str, Any] = {
        "env_file": {"path": str(env_file) if env_file else None, "found": bool(env_file and env_file.is_file())},
        "data_dir": {"value": str(settings.data_dir), "variable": DATA_DIR_VARIABLE,
                     "source": str(settings.source_of("data_dir"))},
    }
    for section, model in SECTIONS.items():
        values = getattr(settings, section)
        report[section] = {
            name: {"value": shown_value(name, getattr(values, name)),
                   "variable": variable_of(section, name),
                   "source": str(settings.source_of(f"{section}.{name}"))}
            for name in model.model_fields
        }
    return report


def format_report(report: dict) -> str:
    env_file = report["env_file"]
    state = "read" if env_file["found"] else "absent"
    lines = [f".env: {env_file['path'] or 'none (GUICHET_ENV_FILE is empty)'} ({state})",
             f"data_dir = {report['data_dir']['value']}  # {report['data_dir']['source']}"]
    for section, fields in report.items():
        if section in ("env_file", "data_dir"):
            continue
        lines.append(f"\n[{section}]")
        for name, shown in fields.items():
            value = json.dumps(shown["value"], ensure_ascii=False)
            lines.append(f"{name} = {value}  # {shown['variable']}: {shown['source']}")
    return "\n".join(lines)


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def config(as_json: bool) -> None:
    """The effective settings, nested by section, each with its variable and where its
    value comes from (default, data directory, environment or .env); secrets masked."""
    from api.commands import command_settings

    report = effective_settings(command_settings())
    click.echo(json.dumps(report, ensure_ascii=False, indent=1) if as_json else format_report(report))
