"""Extractive drafts: the most relevant sentences of the passages, each cited.

No LLM: for each question, candidate sentences of the numbered passages are scored
with BM25 against the question (plus the relevance of their whole passage), then
chosen with MMR so that they do not repeat each other. List introductions carry
their items, table rows carry their column headers. Every sentence ends with its [n].
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from generation.base import Drafter
from generation.format import QUESTION_HEADING
from generation.settings import GenerationSettings
from generation.text import collapse_spaces, content_tokens, split_paragraph, split_sentences
from retrieval.types import Passage

_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}")
_MIN_TOKENS = 3
_MAX_LIST_ITEMS = 6


@dataclass
class Candidate:
    number: int  # the passage's [n]
    position: int  # order inside the passage
    text: str  # clean sentence, without the trailing citation
    tokens: list[str]


def clean_markdown(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\((?:[^)]+)\)", r"\1", text)  # [label](url) -> label
    text = re.sub(r"\*\*|__", "", text)
    text = re.sub(r"^\s*>\s*", "", text)
    text = _LIST_ITEM.sub("", text)
    return collapse_spaces(text)


def passage_body(passage: Passage) -> str:
    """The passage text without its first line when that line is the breadcrumb."""
    first, _, rest = passage.text.partition("\n")
    title = passage.chunk.title
    if rest and (first.startswith(title) or " > " in first):
        return rest
    return passage.text


def _table_row(cells_line: str) -> list[str]:
    return [collapse_spaces(c) for c in cells_line.strip().strip("|").split("|")]


def candidates_of(passage: Passage, number: int) -> list[Candidate]:
    """Citable units of a passage: sentences, list intros with their items, table rows."""
    units = [s.text for s in split_sentences(passage_body(passage))]
    candidates: list[Candidate] = []
    header: list[str] | None = None
    previous_unit: Candidate | None = None
    i = 0
    while i < len(units):
        unit = units[i]
        i += 1
        if _HEADING.match(unit) or _TABLE_SEPARATOR.match(unit):
            previous_unit = None
            continue
        if unit.lstrip().startswith("|"):
            cells = _table_row(unit)
            if header is None or (i < len(units) and _TABLE_SEPARATOR.match(units[i])):
                header = cells
                continue
            text = " ; ".join(f"{h} : {c}" if h else c for h, c in zip(header, cells) if c)
        else:
            header = None
            text = clean_markdown(unit)
            if text.endswith(":"):
                items = []
                while i < len(units) and _LIST_ITEM.match(units[i]) and len(items) < _MAX_LIST_ITEMS:
                    items.append(clean_markdown(units[i]).rstrip(".;,"))
                    i += 1
                if not items:
                    continue
                text = f"{text} {' ; '.join(items)}"
        if text.endswith("?"):
            previous_unit = None
            continue  # a question heading of a Q-R fiche, not an answer
        tokens = content_tokens(text)
        if len(tokens) >= _MIN_TOKENS:
            candidates.append(Candidate(number, len(candidates), text, tokens))
            previous_unit = candidates[-1]
        elif previous_unit is not None and tokens:
            # "Elle est gratuite." only makes sense after the sentence it follows.
            previous_unit.text = f"{previous_unit.text} {text}"
            previous_unit.tokens = previous_unit.tokens + tokens
    return candidates


class _BM25:
    def __init__(self, documents: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.documents = documents
        self.k1, self.b = k1, b
        self.average = sum(len(d) for d in documents) / max(len(documents), 1) or 1.0
        frequency = Counter(t for d in documents for t in set(d))
        n = len(documents)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self.counts = [Counter(d) for d in documents]

    def score(self, query: list[str], index: int) -> float:
        counts, length = self.counts[index], len(self.documents[index])
        total = 0.0
        for term in set(query):
            tf = counts.get(term, 0)
            if tf:
                norm = tf + self.k1 * (1 - self.b + self.b * length / self.average)
                total += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / norm
        return total


def _jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def with_citation(text: str, number: int) -> str:
    """Every sentence of `text` followed by [number], before its final punctuation."""
    return " ".join(_cite_sentence(span.text, number) for span in split_paragraph(text))


def _cite_sentence(text: str, number: int) -> str:
    match = re.search(r"[.!?…:;]+$", text)
    if match:
        end = "." if match.group(0) in (":", ";") else match.group(0)
        return f"{text[: match.start()].rstrip()} [{number}]{end}"
    return f"{text} [{number}]."


class ExtractiveDrafter(Drafter):
    """Default drafter: no LLM, instant, every sentence taken from a cited passage."""

    def __init__(self, settings: GenerationSettings | None = None):
        self.settings = settings or GenerationSettings()

    def write_body(self, questions: list[str], passages: list[Passage], message: str | None = None) -> str:
        pool = [c for number, p in enumerate(passages, 1) for c in candidates_of(p, number)]
        if not pool:
            return ""
        sentence_index = _BM25([c.tokens for c in pool])
        passage_index = _BM25([content_tokens(p.text) for p in passages])
        used: set[tuple[int, int]] = set()
        paragraphs = []
        for question in questions:
            chosen = self.select(question, pool, sentence_index, passage_index, used)
            used.update((c.number, c.position) for c in chosen)
            text = " ".join(self._render(chosen, passages))
            if len(questions) > 1:
                text = f"{QUESTION_HEADING.format(question=question)}\n{text}"
            paragraphs.append(text)
        return "\n\n".join(paragraphs)

    @staticmethod
    def _render(chosen: list[Candidate], passages: list[Passage]) -> list[str]:
        """Cited sentences; the first one of each passage says which case it is about
        ("Location meublée > Restitution : …"), since cases of a fiche differ."""
        sentences, introduced = [], set()
        for candidate in chosen:
            text = candidate.text
            section = passages[candidate.number - 1].chunk.breadcrumb[1:][-2:]
            if section and candidate.number not in introduced:
                text = f"{' > '.join(section)} : {_lower_first(text)}"
            introduced.add(candidate.number)
            sentences.append(with_citation(text, candidate.number))
        return sentences

    def select(self, question, pool, sentence_index, passage_index, used) -> list[Candidate]:
        query = content_tokens(question)
        passage_scores = [passage_index.score(query, i) for i in range(len(passage_index.documents))]
        top_passage = max(passage_scores) or 1.0
        relevance = []
        for i, candidate in enumerate(pool):
            score = sentence_index.score(query, i)
            score += 0.5 * passage_scores[candidate.number - 1] / top_passage * (1.0 if score else 0.2)
            relevance.append(score)
        best = max(relevance) or 1.0
        relevance = [r / best for r in relevance]
        available = [i for i, c in enumerate(pool) if (c.number, c.position) not in used]
        if not available:
            return []
        chosen: list[int] = []
        lam = self.settings.mmr_lambda
        while available and len(chosen) < self.settings.sentences_per_question:
            def mmr(i: int) -> float:
                redundancy = max((_jaccard(pool[i].tokens, pool[j].tokens) for j in chosen), default=0.0)
                return lam * relevance[i] - (1 - lam) * redundancy

            pick = max(available, key=mmr)
            if chosen and relevance[pick] < 0.25:
                break
            chosen.append(pick)
            available.remove(pick)
        return sorted((pool[i] for i in chosen), key=lambda c: (c.number, c.position))
