"""Draft layout: greeting and closing formulas, abstention text, and the sources list."""

from __future__ import annotations

import logging
import re

from generation.types import DraftFormat, Source
from ingest.french import MONTH_NAMES
from ingest.model import publisher_of
from retrieval.errors import IndexCorrupt
from retrieval.types import Passage

log = logging.getLogger(__name__)

GREETING = "Madame, Monsieur,"
CLOSING = (
    "Nous restons à votre disposition pour tout renseignement complémentaire.\n\n"
    "Cordialement,"
)
QUESTION_HEADING = "Concernant votre question : « {question} »"
# Extractive drafts: the paragraph of one question among several, and where to read more.
QUESTION_INTRO = "Concernant « {topic} » :"
READ_MORE = "Pour en savoir plus : la fiche « {title} » de service-public.fr{updated} [{number}]."
# The same sentence for the other sources (ingest.model.SOURCES).
READ_MORE_BY_SOURCE = {
    "service-public": READ_MORE,
    "travail-emploi": "Pour en savoir plus : la fiche « {title} » du ministère du Travail{updated} [{number}].",
    "cdtn": "Pour en savoir plus : la réponse « {title} » du Code du travail numérique{updated} [{number}].",
}
# "officielles": the index may hold several publishers (ingest.model.SOURCES).
ABSTENTION = (
    "Les fiches officielles dont nous disposons ne permettent pas de répondre "
    "avec certitude à votre question."
)
ABSTENTION_FOR_QUESTION = (
    "Les fiches officielles dont nous disposons ne permettent pas de répondre "
    "avec certitude à votre question : « {question} »."
)
NEAREST_FICHES = "Les fiches les plus proches de votre demande sont :"
NO_NEAREST = "Aucune fiche ne s'en approche assez pour vous être indiquée."
SOURCES_HEADING = "Sources :"


# Sentences that are layout, not claims: the verifier gives them NOT_A_CLAIM.
NON_CLAIM_PATTERNS = [
    re.compile(r"^(?:madame, monsieur|bonjour|madame|monsieur)[^.]{0,60}[,.!]?$", re.I),
    re.compile(r"^nous restons à votre disposition", re.I),
    re.compile(r"^(?:bien )?cordialement,?$", re.I),
    re.compile(r"^concernant votre question", re.I),
    re.compile(r"^concernant « .+ » :$", re.I),  # a title may quote: « Peut-on … « en sommeil » ? »
    re.compile(r"^pour en savoir plus : la (?:fiche|réponse) « .+ » (?:de service-public\.fr|du ministère du travail|du code du travail numérique)", re.I),
    re.compile(r"^les fiches (?:de service-public\.fr|officielles) dont nous disposons ne permettent pas", re.I),
    re.compile(r"^les fiches les plus proches", re.I),
    re.compile(r"^aucune fiche ne s'en approche assez", re.I),
    # generation.scope's reasons
    re.compile(r"^les fiches (?:de service-public\.fr|officielles) (?:ne (?:renseignent|donnent) pas"
               r"|expliquent les règles et les démarches ; elles ne permettent pas d'agir"
               r"|décrivent les règles ; elles ne donnent ni conseil"
               r"|dont nous disposons sont à jour au \d)", re.I),
    re.compile(r"^votre message ne pose pas de question", re.I),
    re.compile(r"^[-*]\s+.+ : https://www\.service-public\.fr/\S+$", re.I),
    re.compile(r"^(?:avertissement|remarque)\s*:", re.I),
]


def is_non_claim(sentence: str) -> bool:
    return any(pattern.search(sentence.strip()) for pattern in NON_CLAIM_PATTERNS)


def compose(body: str, format: DraftFormat) -> str:
    """The body framed for the format: `email` adds greeting and closing."""
    body = body.strip()
    if format == DraftFormat.EMAIL:
        return f"{GREETING}\n\n{body}\n\n{CLOSING}"
    return body


def french_date(iso_date: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso_date or "")
    if not match:
        return iso_date or ""
    year, month, day = (int(part) for part in match.groups())
    day_text = "1er" if day == 1 else str(day)
    return f"{day_text} {MONTH_NAMES[month - 1]} {year}"


def build_sources(cited: list[int], passages: list[Passage], fiche_lookup) -> list[Source]:
    """One Source per cited fiche, in order of first citation.

    `fiche_lookup(fiche_id)` returns the stored Fiche (for its legal references) or None.
    """
    sources: dict[str, Source] = {}
    for number in cited:
        if not 1 <= number <= len(passages):
            continue
        chunk = passages[number - 1].chunk
        source = sources.get(chunk.fiche_id)
        if source is None:
            source = Source(
                numbers=[],
                fiche_id=chunk.fiche_id,
                title=chunk.title,
                sections=[],
                date=chunk.date,
                url=chunk.url,
                legal_references=_legal_references(fiche_lookup, chunk.fiche_id),
                source=chunk.source,
                publisher=publisher_of(chunk.source),
            )
            sources[chunk.fiche_id] = source
        source.numbers.append(number)
        if chunk.section and chunk.section not in source.sections:
            source.sections.append(chunk.section)
    return list(sources.values())


def _legal_references(fiche_lookup, fiche_id: str) -> list[dict]:
    try:
        fiche = fiche_lookup(fiche_id) if fiche_lookup else None
    except IndexCorrupt as exc:  # one unreadable fiche loses its references, not the sources list
        log.warning("fiche %s unreadable, listed without legal references: %s", fiche_id, exc)
        fiche = None
    if fiche is None:
        return []
    return [
        {"label": ref.label, "url": ref.url, "legifrance_id": ref.legifrance_id}
        for ref in fiche.legal_references
    ]


def render_sources(sources: list[Source], max_legal_references: int = 3) -> str:
    if not sources:
        return ""
    lines = [SOURCES_HEADING]
    for source in sources:
        numbers = "".join(f"[{n}]" for n in source.numbers)
        section = f" — {' ; '.join(source.sections)}" if source.sections else ""
        lines.append(f"{numbers} {source.title}{section}{_dated_publisher(source)}")
        if source.url:
            lines.append(f"    {source.url}")
        references = source.legal_references[:max_legal_references]
        if references:
            lines.append("    Références juridiques (Légifrance) :")
            lines.extend(f"    - {ref['label']} : {ref['url']}" for ref in references)
    return "\n".join(lines)


def _dated_publisher(source: Source) -> str:
    """' (mis à jour le …)' for service-public.fr (the drafts' long-standing form), the
    publisher named for the other sources: ' (Ministère du Travail, fiche mise à jour le …)'."""
    date = french_date(source.date)
    if source.source == "service-public":
        return f" (mis à jour le {date})" if date else ""
    if not date:
        return f" ({source.publisher})"
    kind = "réponse" if source.source == "cdtn" else "fiche"
    return f" ({source.publisher}, {kind} mise à jour le {date})"


def render_nearest(fiches) -> str:
    """The abstention's list of nearest fiches (FicheHit-like: title, url)."""
    lines = [NEAREST_FICHES]
    lines.extend(f"- {fiche.title} : {fiche.url}" for fiche in fiches)
    return "\n".join(lines)
