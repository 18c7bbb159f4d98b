"""The law beside a cited passage: the articles its fiche's references point to in the
four codes (ingest.legi), with a notice when an article changed after the fiche."""

from __future__ import annotations

from ingest.legi import ArticleStore, changed_after
from ingest.model import Fiche
from retrieval.types import Passage

# Articles shown under one passage, at most (a fiche may cite whole chapters).
MAX_ARTICLES_PER_PASSAGE = 20
LAW_CHANGED = "article {number} modifié le {start}, après la mise à jour de la fiche du {fiche_date}"


def passage_law(passage: Passage, fiche: Fiche | None, store: ArticleStore | None) -> tuple[list[dict], list[str]]:
    """(articles, notices) for a cited passage: the references of its own sections
    when the fiche cites them per section (travail-emploi), else the fiche's."""
    if fiche is None or store is None or not store.available:
        return [], []
    from generation.format import french_date

    chunk = passage.chunk
    references = fiche.legal_references
    if chunk.legal_ids:
        wanted = set(chunk.legal_ids)
        references = [r for r in references if (r.legifrance_id or r.label) in wanted]
    articles: list[dict] = []
    notices: list[str] = []
    seen: set[str] = set()
    for reference in references:
        for article in store.resolve(reference).articles:
            if article.cid in seen or len(articles) >= MAX_ARTICLES_PER_PASSAGE:
                continue
            seen.add(article.cid)
            changed = changed_after(article, fiche.date)
            articles.append({**article.to_dict(), "reference": reference.label, "changed_after_fiche": changed})
            if changed:
                notices.append(LAW_CHANGED.format(number=article.number, start=french_date(article.start),
                                                  fiche_date=french_date(fiche.date)))
    return articles, notices
