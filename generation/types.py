"""Types produced by generation: drafts, their citations and per-sentence verdicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum

from generation.text import collapse_spaces
from retrieval.types import Passage


class DraftMode(str, Enum):
    EXTRACTIVE = "extractive"
    LLM = "llm"


class DraftFormat(str, Enum):
    EMAIL = "email"  # greeting, answer, closing formula, sources: ready to paste
    SHORT = "short"  # the answer and the sources only


class Verdict(str, Enum):
    SUPPORTED = "supported"
    WEAK_SUPPORT = "weak_support"
    NO_CITATION = "no_citation"
    INVALID_CITATION = "invalid_citation"  # [n] points to no passage
    UNSUPPORTED_NUMBER = "unsupported_number"  # a figure absent from the cited passages
    NOT_A_CLAIM = "not_a_claim"  # greeting, closing formula, abstention notice
    # A URL, e-mail or phone number found in no source (masked in the text), or a
    # sentence repeating the instructions given to the LLM (removed).
    UNSAFE_CONTENT = "unsafe_content"
    # Says the opposite of its supporting span: a negation, an opposite word, another office.
    CONTRADICTED = "contradicted"
    MISSING_CONDITION = "missing_condition"  # leaves out a condition of its supporting sentence


@dataclass
class Need:
    """One question of a message as it is searched: the question with its situation."""

    question: str  # the citizen's words (one sentence, or a follow-up with the one before)
    situation: list[str] = field(default_factory=list)  # statements it depends on, nearest first
    source: str = "rules"  # "rules", "llm" or "agent" (corrected on the page)
    asked: bool = True  # False: the message asks nothing, the need is the whole message

    @property
    def query(self) -> str:
        """The search text: the question, then its situation, within MAX_NEED_QUERY_CHARS
        (cut between words): what a person would type after reading the whole e-mail."""
        query = collapse_spaces(" ".join([self.question, *self.situation]))
        if len(query) > MAX_NEED_QUERY_CHARS:
            query = query[:MAX_NEED_QUERY_CHARS].rsplit(" ", 1)[0]
        return query

    def to_dict(self) -> dict:
        return {**asdict(self), "query": self.query}


MAX_NEED_QUERY_CHARS = 600


@dataclass
class SupportSpan:
    citation: int  # the [n] it belongs to
    start: int  # character offsets in that passage's text
    end: int


@dataclass
class SentenceCheck:
    text: str
    start: int  # character offsets in Draft.text
    end: int
    citations: list[int]
    verdict: Verdict
    score: float = 0.0  # support score 0..1 (lexical and semantic)
    reason: str = ""  # French, shown to the agent when flagged
    support: list[SupportSpan] = field(default_factory=list)
    unsupported_numbers: list[str] = field(default_factory=list)
    # For a flagged sentence: the [n] of another passage of the draft that supports it.
    suggested_citation: int | None = None

    @property
    def flagged(self) -> bool:
        return self.verdict not in (Verdict.SUPPORTED, Verdict.NOT_A_CLAIM)


@dataclass
class Citation:
    """[number] in the draft text points to this passage."""

    number: int
    passage: Passage
    # The articles of the four codes its fiche cites (generation.law), and a notice per
    # article whose version in force started after the fiche's last update.
    articles: list[dict] = field(default_factory=list)
    law_changes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"number": self.number, **self.passage.to_dict(), "articles": self.articles,
                "law_changes": self.law_changes}


@dataclass
class Source:
    """A cited fiche as listed at the end of the draft."""

    numbers: list[int]  # the [n] that cite it
    fiche_id: str
    title: str
    sections: list[str]
    date: str
    url: str
    legal_references: list[dict] = field(default_factory=list)  # {label, url, legifrance_id}
    source: str = "service-public"  # a key of ingest.model.SOURCES
    publisher: str = "service-public.fr"  # how the draft and the page name it


@dataclass
class NearFiche:
    """A fiche found near a question the draft could not answer (no citizen text)."""

    fiche_id: str
    title: str
    url: str
    themes: list[str]
    score: float


@dataclass
class UnansweredNeed:
    """A need of the draft left unanswered: its index in `Draft.needs`, why, what was near."""

    need: int
    reason: str  # "low_confidence" (no fiche answers with certainty) or "out_of_scope" (generation.scope)
    confidence: float
    nearest: list[NearFiche] = field(default_factory=list)


@dataclass
class Draft:
    text: str
    mode: DraftMode
    format: DraftFormat
    questions: list[str]
    sentences: list[SentenceCheck]
    citations: list[Citation]
    sources: list[Source]
    abstained: bool = False
    confidence: float = 0.0
    notices: list[str] = field(default_factory=list)  # French, e.g. LLM fallback
    needs: list[Need] = field(default_factory=list)  # what was understood: each question, its situation
    timings_ms: dict[str, float] = field(default_factory=dict)
    unanswered: list[UnansweredNeed] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["mode"] = self.mode.value
        data["format"] = self.format.value
        data["citations"] = [c.to_dict() for c in self.citations]
        data["needs"] = [n.to_dict() for n in self.needs]
        for sentence in data["sentences"]:
            sentence["verdict"] = sentence["verdict"].value
        return data
