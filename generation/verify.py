"""Citation checks of a draft, sentence by sentence, and masking of unsourced contacts.

`sanitize(text, allowed_text)` masks URLs, e-mail addresses and phone numbers that
appear in no source; `redact_leaks(text, secrets)` removes sentences that repeat the
LLM's instructions; `verify(text, passages)` gives every sentence a Verdict:
no citation, citation to a passage that does not exist, a figure absent from the
cited passages, weak support (with its score), or supported (with the supporting
span in the passage).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from generation.format import is_non_claim
from generation.text import (
    Span,
    citations_in,
    content_tokens,
    numeric_facts,
    numeric_values,
    split_sentences,
    strip_citations,
)
from generation.types import SentenceCheck, SupportSpan, Verdict
from retrieval.types import Passage

URL_MASK = "[lien retiré]"
EMAIL_MASK = "[adresse e-mail retirée]"
PHONE_MASK = "[numéro retiré]"
LEAK_MASK = "[passage retiré]"
UNSAFE_MARKERS = (URL_MASK, EMAIL_MASK, PHONE_MASK, LEAK_MASK)

REASONS = {
    Verdict.NO_CITATION: "Aucune source citée pour cette phrase.",
    Verdict.INVALID_CITATION: "Citation vers un passage inexistant : {numbers}.",
    Verdict.UNSUPPORTED_NUMBER: "Chiffre absent des passages cités : {numbers}.",
    Verdict.WEAK_SUPPORT: "Appui faible dans les passages cités (score {score:.2f}).",
    Verdict.UNSAFE_CONTENT: "Lien, adresse ou numéro absent des sources, ou contenu retiré.",
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'»)\]]+"
    r"|\b(?:[a-z0-9][a-z0-9-]*\.)+(?:fr|com|net|org|info|io|eu|be|ch|biz|xyz|example|co|ly|me|app|site|online)"
    r"\b(?:/[^\s<>\"'»)\]]*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\d\w\[])(?:(?:\+|00)[1-9]\d{0,2}[ .-]?(?:\(0\)[ .-]?)?\d(?:[ .-]?\d){6,12}"
    r"|0[1-9](?:[ .-]?\d{2}){4}|3\d{3}(?=\s*\(|\s*$|\s+(?:ou|et)\b))(?![\d])"
)


@dataclass
class Sanitized:
    text: str
    masked: int  # how many URLs / e-mails / phones were masked


def _normalise_url(url: str) -> str:
    url = url.lower().rstrip(".,;:!?")
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _trusted(host: str, trusted_domains: Iterable[str] | None) -> bool:
    if not trusted_domains:
        return True
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in trusted_domains)


def sanitize(text: str, allowed_text: str, trusted_domains: Iterable[str] | None = None) -> Sanitized:
    """Masks URLs, e-mails and phone numbers that do not occur in `allowed_text`,
    and, with `trusted_domains`, links and e-mails outside those domains."""
    allowed_urls = {_normalise_url(u) for u in _URL.findall(allowed_text)}
    allowed_lower = allowed_text.lower()
    allowed_phones = {_digits(p)[-9:] for p in _PHONE.findall(allowed_text)}
    trusted_domains = list(trusted_domains or [])
    count = 0

    def email(match: re.Match) -> str:
        nonlocal count
        address = match.group(0)
        if address.lower() in allowed_lower and _trusted(address.rsplit("@", 1)[1], trusted_domains):
            return address
        count += 1
        return EMAIL_MASK

    def url(match: re.Match) -> str:
        nonlocal count
        raw = match.group(0)
        trailing = re.search(r"[.,;:!?]+$", raw)
        core = raw[: trailing.start()] if trailing else raw
        normalised = _normalise_url(core)
        in_sources = normalised in allowed_urls or any(a.startswith(normalised + "/") for a in allowed_urls)
        if in_sources and _trusted(normalised.split("/", 1)[0].split(":", 1)[0], trusted_domains):
            return raw
        count += 1
        return URL_MASK + (trailing.group(0) if trailing else "")

    def phone(match: re.Match) -> str:
        nonlocal count
        if _digits(match.group(0))[-9:] in allowed_phones:
            return match.group(0)
        count += 1
        return PHONE_MASK

    text = _EMAIL.sub(email, text)
    text = _URL.sub(url, text)
    text = _PHONE.sub(phone, text)
    return Sanitized(text=text, masked=count)


def _shingles(text: str, size: int) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text.lower())
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def redact_leaks(text: str, secrets: Iterable[str], shingle: int = 7) -> str:
    """Replaces sentences that repeat `shingle` consecutive words of a secret."""
    secret_shingles: set[tuple[str, ...]] = set()
    for secret in secrets:
        secret_shingles |= _shingles(secret, shingle)
    if not secret_shingles:
        return text
    for span in reversed(split_sentences(text, line_breaks=True)):
        if _shingles(span.text, shingle) & secret_shingles:
            text = text[: span.start] + LEAK_MASK + text[span.end :]
    return text


@dataclass
class _Unit:
    start: int
    end: int
    tokens: set[str]


class Verifier:
    """Checks each sentence of a draft against the numbered passages it cites."""

    def __init__(self, passages: list[Passage], *, min_support: float = 0.5, embedder=None):
        self.passages = passages
        self.min_support = min_support
        self.embedder = embedder
        self._units = [self._passage_units(p.text) for p in passages]
        self._tokens = [set(content_tokens(p.text)) for p in passages]
        self._numbers = [numeric_values(p.text) for p in passages]

    @staticmethod
    def _passage_units(text: str) -> list[_Unit]:
        return [_Unit(s.start, s.end, set(content_tokens(s.text))) for s in split_sentences(text)]

    def check_all(self, text: str) -> list[SentenceCheck]:
        checks = []
        position = 0
        for line in text.splitlines(keepends=True):
            stripped = line.strip()
            if stripped and is_non_claim(stripped):
                start = position + line.index(stripped)
                checks.append(SentenceCheck(stripped, start, start + len(stripped), [], Verdict.NOT_A_CLAIM))
            else:
                checks.extend(self.check(span) for span in split_sentences(line, offset=position))
            position += len(line)
        return checks

    def check(self, span: Span) -> SentenceCheck:
        cited = citations_in(span.text)
        check = SentenceCheck(span.text, span.start, span.end, cited, Verdict.SUPPORTED)
        if any(marker in span.text for marker in UNSAFE_MARKERS):
            return self._flag(check, Verdict.UNSAFE_CONTENT)
        if cited and is_non_claim(span.text):  # "Pour en savoir plus : la fiche « … » [2]."
            invalid = [n for n in cited if not 1 <= n <= len(self.passages)]
            if invalid:
                return self._flag(check, Verdict.INVALID_CITATION, numbers=", ".join(f"[{n}]" for n in invalid))
            check.verdict = Verdict.NOT_A_CLAIM
            return check
        if not cited:
            if is_non_claim(span.text) or not content_tokens(span.text):
                check.verdict = Verdict.NOT_A_CLAIM
                return check
            return self._flag(check, Verdict.NO_CITATION)
        invalid = [n for n in cited if not 1 <= n <= len(self.passages)]
        if invalid:
            return self._flag(check, Verdict.INVALID_CITATION, numbers=", ".join(f"[{n}]" for n in invalid))
        valid = [n - 1 for n in cited]
        self._support(check, span.text, valid)
        supported_numbers = set().union(*(self._numbers[i] for i in valid))
        missing = [f.surface for f in numeric_facts(span.text) if f.value not in supported_numbers]
        if missing:
            check.unsupported_numbers = missing
            return self._flag(check, Verdict.UNSUPPORTED_NUMBER, numbers=", ".join(missing))
        if check.score < self.min_support:
            return self._flag(check, Verdict.WEAK_SUPPORT, score=check.score)
        return check

    @staticmethod
    def _flag(check: SentenceCheck, verdict: Verdict, **values) -> SentenceCheck:
        check.verdict = verdict
        check.reason = REASONS[verdict].format(numbers=values.get("numbers", ""), score=values.get("score", 0.0))
        return check

    def _support(self, check: SentenceCheck, sentence: str, indexes: list[int]) -> None:
        tokens = set(content_tokens(strip_citations(sentence)))
        best_score, spans = 0.0, []
        for index in indexes:
            score, unit_span = self._best_window(tokens, index)
            passage_recall = len(tokens & self._tokens[index]) / len(tokens) if tokens else 1.0
            score = max(score, 0.85 * passage_recall)
            if self.embedder is not None and unit_span is not None:
                score = max(score, self._semantic(sentence, index, unit_span))
            best_score = max(best_score, score)
            if unit_span is not None:
                spans.append(SupportSpan(index + 1, unit_span[0], unit_span[1]))
        check.score = round(best_score, 3)
        check.support = spans

    def _best_window(self, tokens: set[str], index: int) -> tuple[float, tuple[int, int] | None]:
        units = self._units[index]
        if not tokens or not units:
            return (1.0 if not tokens else 0.0), None
        best, best_span = -1.0, None
        for i in range(len(units)):
            for width in (1, 2, 3):
                window = units[i : i + width]
                if len(window) < width:
                    break
                covered = set().union(*(u.tokens for u in window))
                recall = len(tokens & covered) / len(tokens) - 0.02 * (width - 1)
                if recall > best:
                    best, best_span = recall, (window[0].start, window[-1].end)
        return max(best, 0.0), best_span

    def _semantic(self, sentence: str, index: int, span: tuple[int, int]) -> float:
        # An embedder failure is a fault of the service, not a weak support: it propagates.
        vectors = self.embedder.embed_passages(
            [strip_citations(sentence), self.passages[index].text[span[0] : span[1]]]
        )
        cosine = float(np.dot(vectors[0], vectors[1]))
        return float(np.clip((cosine - 0.75) / 0.2, 0.0, 1.0))


def verify(text: str, passages: list[Passage], *, min_support: float = 0.5, embedder=None) -> list[SentenceCheck]:
    return Verifier(passages, min_support=min_support, embedder=embedder).check_all(text)
