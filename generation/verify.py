"""Citation checks of a draft, sentence by sentence, and masking of unsourced contacts.

`sanitize(text, allowed_text)` masks URLs, e-mail addresses and phone numbers that
appear in no source; `redact_leaks(text, secrets)` removes sentences that repeat the
LLM's instructions; `verify(text, passages)` gives every sentence a Verdict:
no citation, citation to a passage that does not exist, a figure absent from the
cited passages, weak support (with its score), a contradiction or a condition left out
(generation.consistency), or supported (with the supporting span in the passage). How
often each kind of error is caught is measured by `guichet eval verify`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from generation.consistency import missing_condition, opposite_conflict, polarity_conflict, role_conflict
from generation.format import is_non_claim
from generation.pii import EMAIL
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
    Verdict.CONTRADICTED: "{detail}",
    Verdict.MISSING_CONDITION: "{detail}",
}
SUGGESTION = "Appuyé par [{suggested}] plutôt que {cited}."
# A suggested citation must cover this share of the sentence's words.
SUGGESTION_MIN_SUPPORT = 0.8

_EMAIL = EMAIL
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


def allowed_text(passages: list[Passage], extra: Iterable[str] = ()) -> str:
    """What a draft may quote links, e-mails and numbers from: its passages, their
    fiches' addresses and `extra` (e.g. the legal references' links)."""
    parts = []
    for passage in passages:
        parts.extend([passage.text, passage.chunk.url])
    return "\n".join([*parts, *extra])


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
    heading: bool = False  # the breadcrumb line: words to match, not a statement to compare


@dataclass
class _Support:
    """Where a claim is best supported in one cited passage."""

    index: int  # passage index (citation number - 1)
    score: float
    windows: list[tuple[int, int]] = field(default_factory=list)  # 1 to 3 sentences nearly as good as the best
    sentences: list[tuple[int, int]] = field(default_factory=list)  # single sentences nearly as good

    @property
    def window(self) -> tuple[int, int] | None:
        """The 1 to 3 consecutive sentences that cover the claim best."""
        return self.windows[0] if self.windows else None


# A semantic score is the cosine of the claim and its window mapped onto 0..1. The
# multilingual-e5 cosines of two sentences of one domain sit between 0.82 and 0.92 when
# they say different things (`guichet eval verify`, wrong_passage and other_fiche), above
# 0.95 for a paraphrase: 0.935 maps to the default min_support, 0.75.
SEMANTIC_FLOOR = 0.86
SEMANTIC_SPAN = 0.1
# A supported claim that another passage of the draft supports word for word (at least
# MISATTRIBUTION_MIN, MISATTRIBUTION_GAP more than the cited one) cites the wrong one.
MISATTRIBUTION_MAX = 0.9
MISATTRIBUTION_MIN = 0.95
MISATTRIBUTION_GAP = 0.15


class Verifier:
    """Checks each sentence of a draft against the numbered passages it cites.

    A claim is flagged when it cites nothing or a passage that does not exist, states
    a figure absent from the cited passages, is weakly supported by them (word overlap
    and, with an embedder, meaning: one batched call per draft for the sentences whose
    words fall short), or says the opposite of its supporting span (a negation, an
    opposite word, another office or party; a condition left out). A flagged claim that another
    passage of the draft supports gets that passage as `suggested_citation`.
    """

    def __init__(self, passages: list[Passage], *, min_support: float = 0.75, embedder=None):
        self.passages = passages
        self.min_support = min_support
        self.embedder = embedder
        self._units = [self._passage_units(p.text) for p in passages]
        self._tokens = [set(content_tokens(p.text)) for p in passages]
        self._numbers = [numeric_values(p.text) for p in passages]

    @staticmethod
    def _passage_units(text: str) -> list[_Unit]:
        """The passage's sentences; its first line (the breadcrumb) is a unit of its own."""
        breadcrumb, newline, body = text.partition("\n")
        if not newline:
            return [_Unit(s.start, s.end, set(content_tokens(s.text))) for s in split_sentences(text)]
        units = [_Unit(0, len(breadcrumb), set(content_tokens(breadcrumb)), heading=True)]
        units += [_Unit(s.start, s.end, set(content_tokens(s.text)))
                  for s in split_sentences(body, offset=len(breadcrumb) + 1)]
        return units

    def check_all(self, text: str) -> list[SentenceCheck]:
        checks: list[SentenceCheck] = []
        pending: list[tuple[SentenceCheck, _Support | None]] = []
        position = 0
        for line in text.splitlines(keepends=True):
            stripped = line.strip()
            if stripped and is_non_claim(stripped):
                start = position + line.index(stripped)
                checks.append(SentenceCheck(stripped, start, start + len(stripped), [], Verdict.NOT_A_CLAIM))
            else:
                for span in split_sentences(line, offset=position):
                    check, support = self._check_lexical(span)
                    checks.append(check)
                    if support is not None:
                        pending.append((check, support))
            position += len(line)
        self._add_semantic(pending)
        for check, support in pending:
            self._judge(check, support)
        return checks

    # -- stages

    def _check_lexical(self, span: Span) -> tuple[SentenceCheck, _Support | None]:
        """The verdicts that need no support score, or the claim's best lexical support
        (verdict decided by _judge once semantic scores are in)."""
        cited = citations_in(span.text)
        check = SentenceCheck(span.text, span.start, span.end, cited, Verdict.SUPPORTED)
        if any(marker in span.text for marker in UNSAFE_MARKERS):
            return self._flag(check, Verdict.UNSAFE_CONTENT), None
        invalid = [n for n in cited if not 1 <= n <= len(self.passages)]
        if invalid:
            return self._flag(check, Verdict.INVALID_CITATION, numbers=self._numbers_text(invalid)), None
        if is_non_claim(span.text) or (not cited and not content_tokens(span.text)):
            check.verdict = Verdict.NOT_A_CLAIM  # "Pour en savoir plus : la fiche « … » [2]."
            return check, None
        if not cited:
            return self._flag(check, Verdict.NO_CITATION), None
        supports = [self._lexical(span.text, n - 1) for n in cited]
        check.support = [SupportSpan(s.index + 1, *s.window) for s in supports if s.window]
        best = max(supports, key=lambda s: s.score)
        check.score = round(best.score, 3)
        return check, best

    def _add_semantic(self, pending: list[tuple[SentenceCheck, _Support]]) -> None:
        """Raises the score of the claims whose words fall short when their meaning
        matches their window: all such claims of a draft in one embedding call."""
        weak = [(c, s) for c, s in pending if c.score < self.min_support and s.window]
        if self.embedder is None or not weak:
            return
        texts = []
        for check, support in weak:
            start, end = support.window
            texts += [strip_citations(check.text), self.passages[support.index].text[start:end]]
        vectors = np.asarray(self.embedder.embed_passages(texts))
        for i, (check, support) in enumerate(weak):
            cosine = float(np.dot(vectors[2 * i], vectors[2 * i + 1]))
            semantic = float(np.clip((cosine - SEMANTIC_FLOOR) / SEMANTIC_SPAN, 0.0, 1.0))
            if semantic > check.score:
                check.score = support.score = round(semantic, 3)

    def _judge(self, check: SentenceCheck, support: _Support) -> None:
        verdict, values = self._verdict(check.text, support, [n - 1 for n in check.citations])
        if verdict is Verdict.SUPPORTED and support.score < MISATTRIBUTION_MAX:
            # Supported, but another passage of the draft says it nearly word for word.
            better, score = self._better_passage(check.text, exclude=set(check.citations), at_least=MISATTRIBUTION_MIN)
            if better is not None and score >= support.score + MISATTRIBUTION_GAP:
                verdict, values = Verdict.WEAK_SUPPORT, {"score": support.score}
        if verdict is Verdict.SUPPORTED:
            return
        if verdict is Verdict.UNSUPPORTED_NUMBER:
            check.unsupported_numbers = values["missing"]
        self._flag(check, verdict, **values)
        suggested, _ = self._better_passage(check.text, exclude=set(check.citations))
        if suggested is not None:
            check.suggested_citation = suggested
            check.reason += " " + SUGGESTION.format(suggested=suggested, cited=self._numbers_text(check.citations))

    def _verdict(self, sentence: str, support: _Support, indexes: list[int]) -> tuple[Verdict, dict]:
        supported_numbers = set().union(*(self._numbers[i] for i in indexes))
        missing = [f.surface for f in numeric_facts(sentence) if f.value not in supported_numbers]
        if missing:
            return Verdict.UNSUPPORTED_NUMBER, {"numbers": ", ".join(missing), "missing": missing}
        if support.score < self.min_support:
            return Verdict.WEAK_SUPPORT, {"score": support.score}
        claim = strip_citations(sentence)
        passage = self.passages[support.index].text
        # Sentence by sentence: in a wider window, "ne délivre pas" and "délivre" of two
        # cases would cancel out.
        spans = [passage[start:end] for start, end in support.sentences or support.windows] or [passage]
        conflicts = [polarity_conflict(claim, span) or opposite_conflict(claim, span) or role_conflict(claim, span)
                     for span in spans]
        if all(conflicts):  # no sentence nearly as good says the same as the claim
            return Verdict.CONTRADICTED, {"detail": conflicts[0]}
        omitted = [missing_condition(claim, span) for span in spans]
        if all(omitted):
            return Verdict.MISSING_CONDITION, {"detail": omitted[0]}
        return Verdict.SUPPORTED, {}

    def _better_passage(self, sentence: str, exclude: set[int], at_least: float = 0.0) -> tuple[int | None, float]:
        """The number of another passage of the draft that supports the sentence fully,
        and its support score ((None, 0.0) when none does)."""
        best, best_score = None, 0.0
        for index in range(len(self.passages)):
            if index + 1 in exclude:
                continue
            support = self._lexical(sentence, index)
            if support.score > best_score and self._verdict(sentence, support, [index])[0] is Verdict.SUPPORTED:
                best, best_score = index + 1, support.score
        if best_score < max(self.min_support, SUGGESTION_MIN_SUPPORT, at_least):
            return None, 0.0
        return best, best_score

    @staticmethod
    def _flag(check: SentenceCheck, verdict: Verdict, **values) -> SentenceCheck:
        check.verdict = verdict
        check.reason = REASONS[verdict].format(
            numbers=values.get("numbers", ""), score=values.get("score", 0.0), detail=values.get("detail", "")
        )
        return check

    @staticmethod
    def _numbers_text(numbers: list[int]) -> str:
        return ", ".join(f"[{n}]" for n in numbers)

    # -- lexical support

    def _lexical(self, sentence: str, index: int) -> _Support:
        tokens = set(content_tokens(strip_citations(sentence)))
        windows, sentences = self._windows(tokens, index)
        score = max(0.0, windows[0][0]) if windows else (1.0 if not tokens else 0.0)
        passage_recall = len(tokens & self._tokens[index]) / len(tokens) if tokens else 1.0
        return _Support(index, max(score, 0.85 * passage_recall),
                        windows=_near_best(windows), sentences=_near_best(sentences))

    def _windows(self, tokens: set[str], index: int):
        """Every window of 1 to 3 consecutive sentences and every single sentence of the
        passage, as (share of the claim's words it covers, span), best first."""
        units = self._units[index]
        if not tokens:
            return [], []
        windows, sentences = [], []
        for i in range(len(units)):
            for width in (1, 2, 3):
                window = units[i : i + width]
                if len(window) < width:
                    break
                covered = set().union(*(u.tokens for u in window))
                recall = len(tokens & covered) / len(tokens)
                span = (window[0].start, window[-1].end)
                if width == 1 and not window[0].heading:
                    sentences.append((recall, span))
                windows.append((recall - 0.02 * (width - 1), span))
        return sorted(windows, key=lambda w: -w[0]), sorted(sentences, key=lambda w: -w[0])


# Spans whose coverage is this close to the best are read too: a passage often repeats a
# sentence with and without "ne… pas" for two cases, and the claim may copy either.
NEAR_BEST = 0.15


def _near_best(scored: list[tuple[float, tuple[int, int]]], limit: int = 8) -> list[tuple[int, int]]:
    if not scored:
        return []
    return [span for score, span in scored[:limit] if score >= scored[0][0] - NEAR_BEST]


def verify(text: str, passages: list[Passage], *, min_support: float = 0.75, embedder=None) -> list[SentenceCheck]:
    return Verifier(passages, min_support=min_support, embedder=embedder).check_all(text)
