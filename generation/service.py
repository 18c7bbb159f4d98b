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

import functools
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from generation.extractive import ExtractiveDrafter, is_abroad_label, is_case_heading, is_situation_label
from generation.format import (
    ABSTENTION,
    ABSTENTION_FOR_QUESTION,
    NO_NEAREST,
    build_sources,
    compose,
    render_nearest,
    render_sources,
)
from generation.injection import MESSAGE_NOTICE, PASSAGE_NOTICE, looks_like_injection, neutralise_passages
from generation.law import passage_law
from generation.llm import SYSTEM_PROMPT, LLMDrafter, LLMError
from generation.llm_reading import LLMReader
from generation.message import parse_message
from generation.pii import mask, unmask
from generation.reading import formulations, read_needs
from generation.scope import out_of_scope
from generation.settings import GenerationSettings, LLMSettings
from generation.text import citations_in, renumber_citations
from generation.types import Citation, Draft, DraftFormat, DraftMode, NearFiche, Need, SentenceCheck, UnansweredNeed
from generation.verify import Verifier, allowed_text, redact_leaks, sanitize
from ingest.model import Chunk
from retrieval.base import Retriever
from retrieval.errors import IndexCorrupt
from retrieval.search.language import foreign_language
from retrieval.types import FicheHit, Passage, SearchFilters, SearchMode, SearchResult

log = logging.getLogger(__name__)

LLM_FALLBACK_NOTICE = "Brouillon extractif (sans modèle de langue) : {reason}."
LLM_READING_NOTICE = "Questions relevées par les règles (sans modèle de langue) : {reason}."
LLM_NOT_CONFIGURED = "aucun modèle de langue n'est configuré (GUICHET_LLM_BASE_URL)"
PARTIAL_ABSTENTION_NOTICE = "Certaines questions sont restées sans réponse faute de fiche pertinente."
FOREIGN_MESSAGE_NOTICE = (
    "Le message semble rédigé en {language} : les fiches sont en français, les passages retrouvés "
    "méritent une vérification attentive ; le brouillon est rédigé en français."
)
LOW_CONFIDENCE_NOTICE = (
    "Confiance faible pour « {question} » : vérifiez que la fiche citée répond bien à cette question."
)
PROMPT_BUDGET_NOTICE = (
    "{count} passage(s) parmi les moins bien classés n'ont pas été soumis au modèle de langue "
    "(fenêtre de contexte de {window} jetons)."
)
# Fiches kept with each unanswered need: where a content team would start writing.
NEAREST_UNANSWERED = 3
# Other cases of the best passage's section added for the drafter to choose among.
MAX_SIBLING_CASES = 3
# Below this share of the ranked lists agreeing on the fused first fiche, the fiche that
# answers (ExtractiveDrafter.answering_fiche) comes first.
ANSWER_RERANK_AGREEMENT = 0.5
UNSAFE_NOTICE = "Des liens, adresses ou numéros absents des sources ont été masqués dans le brouillon."


@dataclass
class _Context:
    """Everything known before writing: masked needs and numbered passages."""

    needs: list[Need]  # masked, one per question
    message: str  # masked
    mapping: dict[str, str]
    results: list[SearchResult]  # one per need
    scope: list[str | None]  # per need: why no fiche can answer it (generation.scope), or None
    kept: list[int]  # indices of the answerable needs
    groups: list[list[int]]  # for each answerable need, the numbers of its passages, best first
    passages: list[Passage]
    confidence: float
    audience: str | None = None  # chosen by the agent
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = 0.0

    @property
    def questions(self) -> list[str]:
        return [need.question for need in self.needs]

    @property
    def answerable(self) -> list[str]:
        return [self.needs[i].question for i in self.kept]

    @property
    def answerable_needs(self) -> list[Need]:
        return [self.needs[i] for i in self.kept]

    def unanswered_needs(self) -> list[UnansweredNeed]:
        """Each need left unanswered, why, and the fiches its search found nearest."""
        return [
            UnansweredNeed(
                need=i,
                reason="out_of_scope" if self.scope[i] else "low_confidence",
                confidence=round(self.results[i].confidence, 3),
                nearest=[NearFiche(hit.fiche_id, hit.title, hit.url,
                                   list(hit.passages[0].chunk.themes) if hit.passages else [], round(hit.score, 4))
                         for hit in self.results[i].fiches[:NEAREST_UNANSWERED]],
            )
            for i in range(len(self.needs)) if i not in self.kept
        ]

    @property
    def unanswered(self) -> list[tuple[str, str | None]]:
        """(question, why no fiche can answer it if known) of each need not answered."""
        return [(need.question, self.scope[i]) for i, need in enumerate(self.needs) if i not in self.kept]


class DraftService:
    def __init__(
        self,
        retriever: Retriever,
        llm_settings: LLMSettings | None = None,
        *,
        settings: GenerationSettings | None = None,
        embedder=None,
        llm_drafter: LLMDrafter | None = None,
        llm_reader: LLMReader | None = None,
    ):
        self.retriever = retriever
        self.settings = settings or GenerationSettings()
        self.llm_settings = llm_settings
        # Semantic support in verification: the retriever's embedder unless one is given.
        if embedder is None and self.settings.semantic_support:
            embedder = getattr(retriever, "embedder", None)
        self.embedder = embedder
        self.extractive = ExtractiveDrafter(self.settings)
        self._llm = llm_drafter
        self._reader: LLMReader | None = llm_reader

    # --- public API ------------------------------------------------------------------

    def draft(
        self,
        message: str,
        *,
        mode: DraftMode = DraftMode.EXTRACTIVE,
        format: DraftFormat = DraftFormat.EMAIL,
        audience: str | None = None,
        k: int | None = None,
        needs: list[Need] | None = None,
        source: str | None = None,
    ) -> Draft:
        """A verified draft. MessageError (a ValueError) for an empty message.
        `needs`: the questions as the agent corrected them (else read from the message)."""
        mode, format = DraftMode(mode), DraftFormat(format)
        context = self._prepare(message, audience, k, needs, source=source)
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
        needs: list[Need] | None = None,
        source: str | None = None,
    ) -> Iterator[tuple[str, object]]:
        """Text deltas (str)…, notices ({"event": "notice", "text": str}), then the Draft."""
        mode, format = DraftMode(mode), DraftFormat(format)
        context = self._prepare(message, audience, k, needs, source=source)
        if not context.answerable:
            draft = self._abstain(context, mode, format)
            yield draft.text
            yield draft
            return
        if mode == DraftMode.LLM and self._llm_drafter(context) is not None:
            body = yield from self._stream_llm(context)
            if body is not None:
                # The numbers stay those the reader saw streaming (not renumbered).
                yield self._finish(context, body, DraftMode.LLM, format, renumber=False)
                return
            yield {"event": "notice", "text": context.notices[-1], "reset": True}
        body = self._write_extractive(context)
        if body.strip():
            draft = self._finish(context, body, DraftMode.EXTRACTIVE, format)
        else:
            draft = self._abstain(context, mode, format)
        yield draft.text
        yield draft

    # --- steps ---------------------------------------------------------------------

    def understand(
        self, message: str, *, audience: str | None = None, k: int | None = None,
        needs: list[Need] | None = None, mode: SearchMode | None = None, source: str | None = None,
    ) -> tuple[list[Need], list[SearchResult]]:
        """What the message asks (masked needs) and what the index answers to each need:
        the reading and retrieval that drafts use (evals measure them apart; `mode`
        compares search modes, drafts use hybrid)."""
        context = self._prepare(message, audience, k, needs, mode, source=source)
        return context.needs, context.results

    def _prepare(self, message: str, audience: str | None, k: int | None, needs: list[Need] | None = None,
                 mode: SearchMode | None = None, source: str | None = None) -> _Context:
        started = time.perf_counter()
        # Cleaned only: the needs are read from the masked text below.
        parsed = parse_message(message, max_chars=self.settings.analysed_message_chars, max_questions=0)
        masked = mask(parsed.text)
        reading_notices: list[str] = []
        if needs:
            needs = [self._agent_need(need) for need in needs][: self.settings.max_questions]
        else:
            needs = self._read(masked.text, reading_notices)
        timings = {"parse_ms": _ms(started)}
        retrieval_started = time.perf_counter()
        filters = SearchFilters(audience=audience, source=source) if audience or source else None
        if mode is None:  # a BM25-only index cannot answer hybrid queries
            mode = self.retriever.default_mode
        results = self.retriever.search_many(
            [formulations(need, follow_up=i > 0) for i, need in enumerate(needs)],
            k=k or self.settings.k, mode=mode, filters=filters,
        )
        timings["retrieval_ms"] = _ms(retrieval_started)
        threshold = self.settings.min_confidence
        snapshot = self._snapshot_date()
        scope = [out_of_scope(need, snapshot) for need in needs]
        kept = [i for i, r in enumerate(results) if not scope[i] and r.confidence >= threshold and r.passages]
        results = answering_fiche_first(results, needs, kept, self.extractive, self.settings.passages_per_question)
        passages, groups = self._number_passages([results[i] for i in kept])
        # Both steps read the chunks of each question's best fiche: once per draft.
        fiche_chunks = functools.cache(self.retriever.chunks)
        passages, groups = self._with_intro(passages, groups, fiche_chunks)
        passages, groups = self._with_sibling_cases(passages, groups, fiche_chunks)
        passages, removed = neutralise_passages(passages)
        notices = list(parsed.notices) + reading_notices
        notices += [LOW_CONFIDENCE_NOTICE.format(question=needs[i].question) for i in kept
                    if results[i].confidence < self.settings.low_confidence]
        if foreign := foreign_language(parsed.text):
            notices.append(FOREIGN_MESSAGE_NOTICE.format(language=foreign.name))
        if looks_like_injection(masked.text):
            notices.append(MESSAGE_NOTICE)
        if removed:
            notices.append(PASSAGE_NOTICE)
        return _Context(
            needs=needs,
            message=masked.text,
            mapping=masked.mapping,
            results=results,
            scope=scope,
            kept=kept,
            groups=groups,
            passages=passages,
            confidence=max((r.confidence for r in results), default=0.0),
            audience=audience,
            notices=notices,
            timings=timings,
            started=started,
        )

    def _snapshot_date(self) -> date | None:
        """The date of the fiches searched (their newest update), when the index says it."""
        try:
            return date.fromisoformat(str(self.retriever.index_info().get("snapshot_date") or ""))
        except ValueError:
            return None

    def _read(self, masked_message: str, notices: list[str]) -> list[Need]:
        """The needs of the masked message: by the language model when so configured
        (its failures noticed), else, or then, by the rules."""
        limit = self.settings.max_questions
        if self.settings.reader == "llm" and self.llm_settings is not None and self.llm_settings.configured:
            try:
                if self._reader is None:
                    self._reader = LLMReader(self.llm_settings)
                return self._reader.read(masked_message, limit)
            except LLMError as exc:
                log.warning("LLM reading failed, rule-based reading: %s", exc)
                notices.append(LLM_READING_NOTICE.format(reason=exc))
        return read_needs(masked_message, limit) or [Need(question=masked_message[:1000])]

    @staticmethod
    def _agent_need(need: Need) -> Need:
        """A need as the agent wrote it on the page: masked like the message."""
        situation = [mask(s).text for s in need.situation if s.strip()]
        return Need(question=mask(need.question).text, situation=situation, source="agent")

    def _number_passages(self, results: list[SearchResult]) -> tuple[list[Passage], list[list[int]]]:
        """Top passages of each question, interleaved, without duplicates; and for each
        question the numbers of its own passages, best first."""
        per_question = [r.passages[: self.settings.passages_per_question] for r in results]
        numbered: list[Passage] = []
        number_of: dict[str, int] = {}
        for rank in range(self.settings.passages_per_question):
            for passages in per_question:
                if rank < len(passages) and passages[rank].chunk.id not in number_of:
                    if len(numbered) < self.settings.max_passages:
                        numbered.append(passages[rank])
                        number_of[passages[rank].chunk.id] = len(numbered)
        groups = [[number_of[p.chunk.id] for p in passages if p.chunk.id in number_of] for passages in per_question]
        return numbered, groups

    def _with_sibling_cases(self, passages: list[Passage], groups: list[list[int]],
                            fiche_chunks: Callable[[str], list[Chunk]]) -> tuple[list[Passage], list[list[int]]]:
        """When a question's best passage is one case of a fiche's section ("Cas : État des
        lieux non conforme"), the other cases of that section come with it, right after it:
        the drafter then opens with the case the citizen's words fit, or states each case
        as a condition, instead of answering with whichever case the search ranked first.
        Any other passage of the question under a section about abroad ("Naissance à
        l'étranger": 15 days) brings its other places too ("Naissance en France": 5 days):
        the drafter lowers the first for a citizen who speaks of nothing abroad."""
        return self._after(passages, groups, functools.partial(self._sibling_cases, fiche_chunks=fiche_chunks),
                           move=False, brings=lambda position, passage: position == 0 or _about_abroad(passage))

    def _with_intro(self, passages: list[Passage], groups: list[list[int]],
                    fiche_chunks: Callable[[str], list[Chunk]]) -> tuple[list[Passage], list[list[int]]]:
        """The opening chunk of the fiche of each question's best passage, after that
        passage (and after the other cases of its section, placed next): a fiche's first
        lines sum up its answer ("Pour un divorce par consentement mutuel, les époux n'ont
        pas besoin de passer devant le JAF…")."""
        return self._after(passages, groups, functools.partial(self._intro, fiche_chunks=fiche_chunks), move=True)

    @staticmethod
    def _intro(passage: Passage, fiche_chunks: Callable[[str], list[Chunk]]) -> list[Chunk]:
        return [c for c in fiche_chunks(passage.fiche_id) if c.index == 0 and c.id != passage.chunk.id]

    @staticmethod
    def _after(passages: list[Passage], groups: list[list[int]], chunks_of: Callable[[Passage], list[Chunk]],
               *, move: bool, brings: Callable[[int, Passage], bool] = lambda position, passage: position == 0,
               ) -> tuple[list[Passage], list[list[int]]]:
        """Each passage of a question that `brings` (its position among the question's
        passages, it; default: the best one) followed by `chunks_of` it, in that order
        (new ones numbered after the passages); `move`: one already among the question's
        passages moves up there too, else it keeps its place."""
        passages = list(passages)
        number_of = {p.chunk.id: i for i, p in enumerate(passages, 1)}
        extended = []
        for group in groups:
            group = list(group)
            for position, anchor in enumerate(list(group)):
                passage = passages[anchor - 1]
                if not brings(position, passage):
                    continue
                for chunk in reversed(chunks_of(passage)):
                    number = _numbered(chunk, passage.score, passages, number_of)
                    if move and number in group and number != anchor:
                        group.remove(number)
                    if number not in group:
                        group.insert(group.index(anchor) + 1, number)
            extended.append(group)
        return passages, extended

    @staticmethod
    def _sibling_cases(passage: Passage, fiche_chunks: Callable[[str], list[Chunk]]) -> list[Chunk]:
        """Chunks of the same fiche holding another case at the level of the passage's
        last case: as their own chunk (same parents), or under a heading of a chunk
        higher up ("##### Cas : État des lieux conforme" in the section's chunk). A
        passage under a situation of the fiche higher up ("Vous vivez à l'étranger >
        Pièces à fournir") brings the same place under the other situations ("Vous vivez
        en France > Pièces à fournir")."""
        path = passage.chunk.breadcrumb
        level = next((i for i in range(len(path) - 1, 0, -1) if is_situation_label(path[i])), 0)
        if not level:
            return []
        heading = re.compile(rf"^#{{{len(path) - 1}}}\s+Cas\b", re.M | re.I)
        last_case = level == len(path) - 1 and is_case_heading(path[-1])
        found: dict[str, Chunk] = {}
        for chunk in fiche_chunks(passage.fiche_id):
            other = chunk.breadcrumb
            if chunk.id == passage.chunk.id:
                continue
            if len(other) == len(path) and other[:level] == path[:level] and other[level + 1:] == path[level + 1:] \
                    and other[level] != path[level] and is_situation_label(other[level]):
                found.setdefault(other[level], chunk)  # a long case's first chunk
            elif last_case and len(other) < len(path) and path[: len(other)] == other and heading.search(chunk.text):
                found.setdefault(chunk.id, chunk)
        return list(found.values())[:MAX_SIBLING_CASES]

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
                    passages = self._llm_passages(drafter, context)
                    return DraftMode.LLM, drafter.write_body(context.answerable, passages, context.message,
                                                             needs=context.answerable_needs, audience=context.audience)
                except LLMError as exc:
                    log.warning("LLM draft failed, extractive fallback: %s", exc)
                    context.notices.append(LLM_FALLBACK_NOTICE.format(reason=exc))
            return DraftMode.EXTRACTIVE, self._write_extractive(context)
        finally:
            context.timings["write_ms"] = _ms(started)

    def _llm_passages(self, drafter: LLMDrafter, context: _Context) -> list[Passage]:
        """The passages that fit the model's context window (the numbering is kept: the
        dropped ones are the last); a notice says how many were left out."""
        kept = drafter.passages_within_budget(context.answerable, context.passages, context.message,
                                              context.answerable_needs, context.audience)
        if len(kept) < len(context.passages):
            context.notices.append(PROMPT_BUDGET_NOTICE.format(
                count=len(context.passages) - len(kept), window=drafter.settings.context_window))
        return kept

    def _write_extractive(self, context: _Context) -> str:
        """The answers in the order of the questions, each unanswerable one said in its
        place ("" when nothing could be cited at all)."""
        paragraphs = self.extractive.write_paragraphs(
            context.answerable, context.passages, needs=context.answerable_needs, groups=context.groups,
            introduce=len(context.questions) > 1,
            expansions=[_added_words(context.results[i]) for i in context.kept],
        )
        if not any(paragraphs):
            return ""
        written = dict(zip(context.kept, paragraphs))
        return "\n\n".join(
            written.get(i) or context.scope[i] or ABSTENTION_FOR_QUESTION.format(question=need.question)
            for i, need in enumerate(context.needs)
        )

    def _stream_llm(self, context: _Context):
        """Yields sanitized deltas line by line; returns the body, or None on failure."""
        started = time.perf_counter()
        allowed = allowed_text(context.passages)
        received, pending = [], ""
        try:
            passages = self._llm_passages(self._llm, context)
            for delta in self._llm.stream_body(context.answerable, passages, context.message,
                                               needs=context.answerable_needs, audience=context.audience):
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

    def _finish(self, context: _Context, body: str, mode: DraftMode, format: DraftFormat, *,
                renumber: bool = True) -> Draft:
        started = time.perf_counter()
        if renumber:
            body, context.passages = renumber_citations(body, context.passages)
        notices = list(context.notices)
        if context.unanswered and mode == DraftMode.LLM:  # extractive bodies say it in place
            body += "\n\n" + "\n".join(
                reason or ABSTENTION_FOR_QUESTION.format(question=q) for q, reason in context.unanswered
            )
        if context.unanswered or ABSTENTION_FOR_QUESTION.split("{")[0] in body:
            notices.append(PARTIAL_ABSTENTION_NOTICE)
        if mode == DraftMode.LLM:
            body = redact_leaks(body, [SYSTEM_PROMPT, self._llm.system_prompt if self._llm else ""])
        sources_preview = build_sources(citations_in(body), context.passages, self._fiche)
        allowed = allowed_text(context.passages, (ref["url"] for s in sources_preview for ref in s.legal_references))
        sanitized = sanitize(body, allowed, self.settings.trusted_domains)
        if sanitized.masked:
            notices.append(UNSAFE_NOTICE)
        text = compose(sanitized.text, format)
        verifier = Verifier(context.passages, min_support=self.settings.min_support, embedder=self.embedder)
        checks = verifier.check_all(text)
        cited = [n for n in citations_in(text) if 1 <= n <= len(context.passages)]
        sources = build_sources(cited, context.passages, self._fiche)
        text, checks = self._unmask(text, checks, context.mapping)
        rendered_sources = render_sources(sources) if format == DraftFormat.EMAIL else ""
        if rendered_sources:  # the short format is pasted without them; the page shows them
            text = f"{text}\n\n{rendered_sources}"
        context.timings["verify_ms"] = _ms(started)
        context.timings["total_ms"] = _ms(context.started)
        return Draft(
            text=text,
            mode=mode,
            format=format,
            questions=context.questions,
            needs=context.needs,
            sentences=checks,
            citations=[self._citation(n, context.passages[n - 1]) for n in _shown_passages(cited, checks)],
            sources=sources,
            abstained=False,
            confidence=context.confidence,
            notices=notices,
            timings_ms=dict(context.timings),
            unanswered=context.unanswered_needs(),
        )

    def _abstain(self, context: _Context, mode: DraftMode, format: DraftFormat) -> Draft:
        reasons = list(dict.fromkeys(r for r in context.scope if r))
        searched = [r for r, reason in zip(context.results, context.scope) if not reason]
        if searched or not reasons:
            nearest = _nearest_fiches([r for r in searched if r.confidence >= self.settings.nearest_min_confidence])
            reasons.append(ABSTENTION + "\n\n" + (render_nearest(nearest) if nearest else NO_NEAREST))
        body = "\n\n".join(reasons)
        text = compose(body, format)
        checks = Verifier([]).check_all(text)
        context.timings["total_ms"] = _ms(context.started)
        return Draft(
            text=text,
            mode=mode,
            format=format,
            questions=context.questions,
            needs=context.needs,
            sentences=checks,
            citations=[],
            sources=[],
            abstained=True,
            confidence=context.confidence,
            notices=list(context.notices),
            timings_ms=dict(context.timings),
            unanswered=context.unanswered_needs(),
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

    def _citation(self, number: int, passage) -> Citation:
        """The cited passage with the articles its fiche cites beside it (generation.law)."""
        store = self.retriever.articles
        if store is None:
            return Citation(number, passage)
        try:
            fiche = self._fiche(passage.fiche_id)
        except IndexCorrupt:
            fiche = None
        articles, law_changes = passage_law(passage, fiche, store)
        return Citation(number, passage, articles, law_changes)


def answering_fiche_first(results: list[SearchResult], needs: list[Need], kept: list[int],
                          drafter: ExtractiveDrafter, per_question: int) -> list[SearchResult]:
    """The results with the message's first question's answering fiche first, when its
    search's ranked lists disagree on their first fiche (under ANSWER_RERANK_AGREEMENT
    of them put the fused first first): the fiche of the sentence the drafter would
    open with among the question's passages (its kind of fact, its case, its age…),
    which a search's words cannot weigh. Development e-mails, first questions first
    0.463 -> 0.500, MRR@10 0.579 -> 0.599; corpus-derived e-mail-like messages 0.895 ->
    0.910; PIAF questions read as messages, whose lists mostly agree, 0.985 -> 0.987
    (applied whatever the agreement: 0.925). Follow-ups keep their search's order: read
    with few words of their own ("Et combien de temps ?"), they lost 2 of 24 gold fiches
    in their drafts with it (README, "E-mails")."""
    if 0 not in kept or results[0].signals.get("lists_first", 1.0) >= ANSWER_RERANK_AGREEMENT:
        return results
    first = results[0]
    passages = first.passages[:per_question]
    answering = drafter.answering_fiche(needs[0], passages, _added_words(first))
    if not answering or answering == first.fiches[0].fiche_id:
        return results
    return [with_fiche_first(first, answering, within=len(passages)), *results[1:]]


def with_fiche_first(result: SearchResult, fiche_id: str, within: int) -> SearchResult:
    """The result with that fiche first, and its passages among the first `within`
    before the others of those (passages renumbered)."""
    fiches = sorted(result.fiches, key=lambda f: f.fiche_id != fiche_id)
    first = result.passages[:within]
    passages = sorted(first, key=lambda p: p.fiche_id != fiche_id) + result.passages[within:]
    for rank, passage in enumerate(passages, 1):  # the fiches' passages are the same objects
        passage.rank = rank
    return replace(result, fiches=fiches, passages=passages)


def _added_words(result: SearchResult) -> str:
    """What query expansion added to the query (acronyms spelt out, the fiches' words)."""
    expanded = result.expanded_query or ""
    return expanded[len(result.query):] if expanded.startswith(result.query) else ""


def _shown_passages(cited: list[int], checks: list[SentenceCheck]) -> list[int]:
    """The passages the agent sees: the cited ones and those suggested for a flagged sentence."""
    return sorted(set(cited) | {c.suggested_citation for c in checks if c.suggested_citation})


def _nearest_fiches(results: list[SearchResult], limit: int = 3) -> list[FicheHit]:
    seen, nearest = set(), []
    for result in results:
        for fiche in result.fiches:
            if fiche.fiche_id not in seen:
                seen.add(fiche.fiche_id)
                nearest.append(fiche)
    return sorted(nearest, key=lambda f: -f.score)[:limit]


def _about_abroad(passage: Passage) -> bool:
    """The passage is under a section of its fiche about abroad ("Naissance à l'étranger")."""
    return any(is_abroad_label(label) for label in passage.chunk.breadcrumb[1:])


def _numbered(chunk: Chunk, score: float, passages: list[Passage], number_of: dict[str, int]) -> int:
    """The number of `chunk` among the draft's passages, appended to them (and to
    `number_of`) if it is not there yet."""
    if chunk.id not in number_of:
        passages.append(Passage(chunk, score, len(passages) + 1))
        number_of[chunk.id] = len(passages)
    return number_of[chunk.id]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
