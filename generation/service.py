"""Drafting a reply end to end: message → masked questions → passages → draft → checks.

`DraftService.draft()` returns a verified Draft; `DraftService.stream()` yields text
deltas (str) while an LLM writes, {"event": "notice", "text": …} dicts when something
went wrong, then the final Draft, whose text is authoritative (it replaces the
deltas: verification may mask links or remove sentences). This is the item protocol
of api/drafting.py.

Personal data is masked before retrieval and before the LLM; only the kinds in
GenerationSettings.unmask_kinds (names by default) are put back into the agent's
draft. Draft.questions stay masked (the API stores them as coverage gaps).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from generation.extractive import ExtractiveDrafter
from generation.format import (
    ABSTENTION,
    ABSTENTION_FOR_QUESTION,
    build_sources,
    compose,
    render_nearest,
    render_sources,
)
from generation.injection import MESSAGE_NOTICE, PASSAGE_NOTICE, looks_like_injection, neutralise_passages
from generation.llm import SYSTEM_PROMPT, LLMDrafter, LLMError
from generation.message import extract_questions, parse_message
from generation.pii import mask, unmask
from generation.settings import GenerationSettings, LLMSettings
from generation.text import citations_in
from generation.types import Citation, Draft, DraftFormat, DraftMode, SentenceCheck
from generation.verify import Verifier, redact_leaks, sanitize
from retrieval.base import Retriever
from retrieval.language import foreign_language
from retrieval.types import FicheHit, Passage, SearchFilters, SearchMode, SearchResult

log = logging.getLogger(__name__)

LLM_FALLBACK_NOTICE = "Brouillon extractif (sans modèle de langue) : {reason}."
LLM_NOT_CONFIGURED = "aucun modèle de langue n'est configuré (GUICHET_LLM_BASE_URL)"
PARTIAL_ABSTENTION_NOTICE = "Certaines questions sont restées sans réponse faute de fiche pertinente."
FOREIGN_MESSAGE_NOTICE = (
    "Le message semble rédigé en {language} : les fiches sont en français, les passages retrouvés "
    "méritent une vérification attentive ; le brouillon est rédigé en français."
)
UNSAFE_NOTICE = "Des liens, adresses ou numéros absents des sources ont été masqués dans le brouillon."


@dataclass
class _Context:
    """Everything known before writing: masked questions and numbered passages."""

    questions: list[str]
    message: str  # masked
    mapping: dict[str, str]
    results: list[SearchResult]
    answerable: list[str]
    unanswered: list[str]
    passages: list[Passage]
    confidence: float
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = 0.0


class DraftService:
    def __init__(
        self,
        retriever: Retriever,
        llm_settings: LLMSettings | None = None,
        *,
        settings: GenerationSettings | None = None,
        embedder=None,
        llm_drafter: LLMDrafter | None = None,
    ):
        self.retriever = retriever
        self.settings = settings or GenerationSettings()
        self.llm_settings = llm_settings
        self.embedder = embedder  # optional semantic support in verification
        self.extractive = ExtractiveDrafter(self.settings)
        self._llm = llm_drafter

    # --- public API ------------------------------------------------------------------

    def draft(
        self,
        message: str,
        *,
        mode: DraftMode = DraftMode.EXTRACTIVE,
        format: DraftFormat = DraftFormat.EMAIL,
        audience: str | None = None,
        k: int | None = None,
    ) -> Draft:
        """A verified draft. MessageError (a ValueError) for an empty message."""
        mode, format = DraftMode(mode), DraftFormat(format)
        context = self._prepare(message, audience, k)
        if not context.answerable:
            return self._abstain(context, mode, format)
        used_mode, body = self._write(context, mode)
        if not body.strip():  # nothing citable in the passages: never an empty draft
            return self._abstain(context, mode, format)
        return self._finish(context, body, used_mode, format)

    def stream(
        self,
        message: str,
        *,
        mode: DraftMode = DraftMode.EXTRACTIVE,
        format: DraftFormat = DraftFormat.EMAIL,
        audience: str | None = None,
        k: int | None = None,
    ) -> Iterator[tuple[str, object]]:
        """Text deltas (str)…, notices ({"event": "notice", "text": str}), then the Draft."""
        mode, format = DraftMode(mode), DraftFormat(format)
        context = self._prepare(message, audience, k)
        if not context.answerable:
            draft = self._abstain(context, mode, format)
            yield draft.text
            yield draft
            return
        if mode == DraftMode.LLM and self._llm_drafter(context) is not None:
            body = yield from self._stream_llm(context)
            if body is not None:
                yield self._finish(context, body, DraftMode.LLM, format)
                return
            yield {"event": "notice", "text": context.notices[-1], "reset": True}
        body = self.extractive.write_body(context.answerable, context.passages)
        if body.strip():
            draft = self._finish(context, body, DraftMode.EXTRACTIVE, format)
        else:
            draft = self._abstain(context, mode, format)
        yield draft.text
        yield draft

    # --- steps ---------------------------------------------------------------------

    def _prepare(self, message: str, audience: str | None, k: int | None) -> _Context:
        started = time.perf_counter()
        parsed = parse_message(
            message, max_chars=self.settings.max_message_chars, max_questions=self.settings.max_questions
        )
        masked = mask(parsed.text)
        questions = extract_questions(masked.text, self.settings.max_questions)
        timings = {"parse_ms": _ms(started)}
        retrieval_started = time.perf_counter()
        filters = SearchFilters(audience=audience) if audience else None
        # A BM25-only index (built with --embedder none) cannot answer hybrid queries.
        mode = SearchMode.BM25 if getattr(self.retriever, "embedder", True) is None else SearchMode.HYBRID
        results = [
            self.retriever.search(q, k=k or self.settings.k, mode=mode, filters=filters) for q in questions
        ]
        timings["retrieval_ms"] = _ms(retrieval_started)
        threshold = self.settings.min_confidence
        answerable = [q for q, r in zip(questions, results) if r.confidence >= threshold and r.passages]
        unanswered = [q for q in questions if q not in answerable]
        passages = self._number_passages([r for q, r in zip(questions, results) if q in answerable])
        passages, removed = neutralise_passages(passages)
        notices = list(parsed.notices)
        if foreign := foreign_language(parsed.text):
            notices.append(FOREIGN_MESSAGE_NOTICE.format(language=foreign.name))
        if looks_like_injection(masked.text):
            notices.append(MESSAGE_NOTICE)
        if removed:
            notices.append(PASSAGE_NOTICE)
        return _Context(
            questions=questions,
            message=masked.text,
            mapping=masked.mapping,
            results=results,
            answerable=answerable,
            unanswered=unanswered,
            passages=passages,
            confidence=max((r.confidence for r in results), default=0.0),
            notices=notices,
            timings=timings,
            started=started,
        )

    def _number_passages(self, results: list[SearchResult]) -> list[Passage]:
        """Top passages of each question, interleaved, without duplicates."""
        per_question = [r.passages[: self.settings.passages_per_question] for r in results]
        numbered: list[Passage] = []
        seen: set[str] = set()
        for rank in range(self.settings.passages_per_question):
            for passages in per_question:
                if rank < len(passages) and passages[rank].chunk.id not in seen:
                    seen.add(passages[rank].chunk.id)
                    numbered.append(passages[rank])
        return numbered[: self.settings.max_passages]

    def _llm_drafter(self, context: _Context) -> LLMDrafter | None:
        if self._llm is None and self.llm_settings is not None and self.llm_settings.configured:
            self._llm = LLMDrafter(self.llm_settings)
        if self._llm is None:
            context.notices.append(LLM_FALLBACK_NOTICE.format(reason=LLM_NOT_CONFIGURED))
        return self._llm

    def _write(self, context: _Context, mode: DraftMode) -> tuple[DraftMode, str]:
        started = time.perf_counter()
        try:
            if mode == DraftMode.LLM and (drafter := self._llm_drafter(context)) is not None:
                try:
                    return DraftMode.LLM, drafter.write_body(context.answerable, context.passages, context.message)
                except LLMError as exc:
                    log.warning("LLM draft failed, extractive fallback: %s", exc)
                    context.notices.append(LLM_FALLBACK_NOTICE.format(reason=exc))
            return DraftMode.EXTRACTIVE, self.extractive.write_body(context.answerable, context.passages)
        finally:
            context.timings["write_ms"] = _ms(started)

    def _stream_llm(self, context: _Context):
        """Yields sanitized deltas line by line; returns the body, or None on failure."""
        started = time.perf_counter()
        allowed = self._allowed_text(context.passages)
        received, pending = [], ""
        try:
            for delta in self._llm.stream_body(context.answerable, context.passages, context.message):
                received.append(delta)
                pending += delta
                if "\n" in pending:
                    ready, _, pending = pending.rpartition("\n")
                    yield self._agent_view(ready + "\n", allowed, context.mapping)
            body = LLMDrafter.check_output("".join(received))
        except LLMError as exc:
            log.warning("LLM stream failed, extractive fallback: %s", exc)
            context.notices.append(LLM_FALLBACK_NOTICE.format(reason=exc))
            return None
        finally:
            context.timings["write_ms"] = _ms(started)
        if pending:
            yield self._agent_view(pending, allowed, context.mapping)
        return body

    def _agent_view(self, segment: str, allowed: str, mapping: dict[str, str]) -> str:
        """A streamed line as the agent may see it: unsourced contacts masked, names back."""
        sanitized = sanitize(segment, allowed, self.settings.trusted_domains).text
        return unmask(sanitized, mapping, self.settings.unmask_kinds)

    def _allowed_text(self, passages: list[Passage]) -> str:
        parts = []
        for passage in passages:
            parts.extend([passage.text, passage.chunk.url])
        return "\n".join(parts)

    def _finish(self, context: _Context, body: str, mode: DraftMode, format: DraftFormat) -> Draft:
        started = time.perf_counter()
        notices = list(context.notices)
        if context.unanswered:
            body += "\n\n" + "\n".join(ABSTENTION_FOR_QUESTION.format(question=q) for q in context.unanswered)
            notices.append(PARTIAL_ABSTENTION_NOTICE)
        if mode == DraftMode.LLM:
            body = redact_leaks(body, [SYSTEM_PROMPT, self._llm.system_prompt if self._llm else ""])
        sources_preview = build_sources(citations_in(body), context.passages, self._fiche)
        allowed = self._allowed_text(context.passages) + "\n" + "\n".join(
            ref["url"] for s in sources_preview for ref in s.legal_references
        )
        sanitized = sanitize(body, allowed, self.settings.trusted_domains)
        if sanitized.masked:
            notices.append(UNSAFE_NOTICE)
        text = compose(sanitized.text, format)
        verifier = Verifier(context.passages, min_support=self.settings.min_support, embedder=self.embedder)
        checks = verifier.check_all(text)
        cited = [n for n in citations_in(text) if 1 <= n <= len(context.passages)]
        sources = build_sources(cited, context.passages, self._fiche)
        text, checks = self._unmask(text, checks, context.mapping)
        rendered_sources = render_sources(sources)
        if rendered_sources:
            text = f"{text}\n\n{rendered_sources}"
        context.timings["verify_ms"] = _ms(started)
        context.timings["total_ms"] = _ms(context.started)
        return Draft(
            text=text,
            mode=mode,
            format=format,
            questions=context.questions,
            sentences=checks,
            citations=[Citation(n, context.passages[n - 1]) for n in sorted(set(cited))],
            sources=sources,
            abstained=False,
            confidence=context.confidence,
            notices=notices,
            timings_ms=dict(context.timings),
        )

    def _abstain(self, context: _Context, mode: DraftMode, format: DraftFormat) -> Draft:
        nearest = _nearest_fiches(context.results)
        body = ABSTENTION + ("\n\n" + render_nearest(nearest) if nearest else "")
        text = compose(body, format)
        checks = Verifier([]).check_all(text)
        context.timings["total_ms"] = _ms(context.started)
        return Draft(
            text=text,
            mode=mode,
            format=format,
            questions=context.questions,
            sentences=checks,
            citations=[],
            sources=[],
            abstained=True,
            confidence=context.confidence,
            notices=list(context.notices),
            timings_ms=dict(context.timings),
        )

    def _unmask(self, text: str, checks: list[SentenceCheck], mapping: dict[str, str]):
        kinds = self.settings.unmask_kinds
        unmasked = unmask(text, mapping, kinds)
        cursor = 0
        for check in checks:
            check.text = unmask(check.text, mapping, kinds)
            position = unmasked.find(check.text, cursor)
            if position >= 0:
                check.start, check.end = position, position + len(check.text)
                cursor = check.end
        return unmasked, checks

    def _fiche(self, fiche_id: str):
        return self.retriever.fiche(fiche_id)


def _nearest_fiches(results: list[SearchResult], limit: int = 3) -> list[FicheHit]:
    seen, nearest = set(), []
    for result in results:
        for fiche in result.fiches:
            if fiche.fiche_id not in seen:
                seen.add(fiche.fiche_id)
                nearest.append(fiche)
    return sorted(nearest, key=lambda f: -f.score)[:limit]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
