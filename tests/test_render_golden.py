"""Golden tests: real fiches of the bundled sample rendered to Markdown, compared to
reviewed snapshots in tests/golden/ (<ID>.md: the body; <ID>.json: metadata, section
paths and chunks). Regenerate with GUICHET_UPDATE_GOLDEN=1, then read every changed
snapshot before committing it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from ingest.chunking import chunk_fiche
from ingest.model import Fiche

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GUICHET_UPDATE_GOLDEN") == "1"

# What each fiche covers.
GOLDEN = {
    "F2871": "Question-réponse, short, emphasis, description differs from the body",
    "F12956": "Question-réponse with situations, inline online service and Où s'adresser, callout",
    "F16947": "table with merged cells, cases, exponents",
    "F1343": "information conditionnée: nested cases (4 levels of headings), citations",
    "F33640": "Question-réponse conditionnée: FragmentConditionne, situations",
    "F15763": "dated warning (Avertissement) with a list",
    "F34482": "Recherche guidée: option paths to fiches, empty links titled",
    "F2224": "fiche avec liens externes",
    "F24610": "Comment faire si",
    "F87": "information fiche: acronyms, inline service, exponent",
    "R56465": "service card (Formulaire, ServiceComplementaire root)",
    "N31002": "dossier (navigation)",
    "N19804": "theme (navigation by sub-theme)",
}


def snapshot(fiche: Fiche) -> dict:
    return {
        "id": fiche.id,
        "kind": fiche.kind,
        "type": fiche.type,
        "title": fiche.title,
        "description": fiche.description,
        "date": fiche.date,
        "url": fiche.url,
        "audiences": fiche.audiences,
        "breadcrumb": fiche.breadcrumb,
        "themes": fiche.themes,
        "subject": fiche.subject,
        "section_paths": [" > ".join(s.path) for s in fiche.sections],
        "internal_links": [f"{link.target} {link.label}" for link in fiche.internal_links],
        "external_links": [f"{link.target} {link.label}" for link in fiche.external_links],
        "online_services": [asdict(s) for s in fiche.online_services],
        "where_to_go": [f"{link.target} {link.label}" for link in fiche.where_to_go],
        "related_questions": [f"{link.target} {link.label}" for link in fiche.related_questions],
        "legal_references": [f"{r.legifrance_id} {r.label}" for r in fiche.legal_references],
        "glossary": sorted(fiche.glossary),
        "acronyms": fiche.acronyms,
        "warnings": fiche.warnings,
        "chunks": [f"{c.id} {c.words}w {c.section}" for c in chunk_fiche(fiche)] if fiche.is_content else [],
    }


def check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run with GUICHET_UPDATE_GOLDEN=1, then review it")
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs from the reviewed snapshot"


@pytest.mark.parametrize("fiche_id", sorted(GOLDEN))
def test_rendered_markdown_matches_the_reviewed_snapshot(fiche_id, parsed_sample):
    fiche = parsed_sample[fiche_id]
    check(GOLDEN_DIR / f"{fiche_id}.md", fiche.markdown + "\n")


@pytest.mark.parametrize("fiche_id", sorted(GOLDEN))
def test_metadata_and_chunks_match_the_reviewed_snapshot(fiche_id, parsed_sample):
    fiche = parsed_sample[fiche_id]
    check(GOLDEN_DIR / f"{fiche_id}.json", json.dumps(snapshot(fiche), ensure_ascii=False, indent=1) + "\n")


def test_no_stale_snapshots():
    names = {p.stem for p in GOLDEN_DIR.glob("*.md")} | {p.stem for p in GOLDEN_DIR.glob("*.json")}
    assert names <= set(GOLDEN), f"snapshots without a golden test: {sorted(names - set(GOLDEN))}"
