"""Opening what the benchmarks measure: the retriever, the draft service, the config
snapshot written into results and reports."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def open_retriever(index_dir: Path | None, embedder: str = "auto"):
    """The index's retriever; embedder "auto" = the one the index was built with. The
    language model loads now, as in a server, not during the first timed query."""
    from api.commands import command_settings
    from retrieval import open_retriever as open_index_retriever
    from retrieval.search.language import load_identifier

    load_identifier()
    return open_index_retriever(command_settings().retrieval, index_dir=index_dir, embedder_spec=embedder)


def draft_service(retriever, llm_settings=None, reader: str | None = None):
    """The draft service as the API builds it; `reader` ("rules" or "llm") overrides
    GUICHET_GENERATION_READER, to measure both readings."""
    from api.commands import command_settings
    from generation.service import DraftService

    settings = command_settings()
    generation = settings.generation.model_copy(update={"reader": reader}) if reader else settings.generation
    return DraftService(retriever, llm_settings or settings.llm, settings=generation)


def known_fiches(retriever, fiche_ids: set[str]) -> set[str]:
    """The IDs among `fiche_ids` that the index holds."""
    return {fiche_id for fiche_id in sorted(fiche_ids) if retriever.fiche(fiche_id) is not None}


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def shown_path(path: Path | str) -> str:
    """A path as a report shows it: relative to the working directory when under it (a
    committed report then carries no machine's folders), else as given."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def snapshot(**settings) -> dict:
    """What a result records about the run: settings given, code version, machine, time."""
    return {
        **{k: (shown_path(v) if isinstance(v, Path) else v) for k, v in settings.items()},
        "commit": git_commit(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()}",
        "run_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
