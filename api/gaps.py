"""What the fiches do not cover, for content teams: the needs drafts left unanswered.

A need is recorded as a gap only when it was a real question: asked, in words (not
random bytes or symbols), in French, and about something (a subject word in the
question or in the situation it was read with; "Quelles démarches faut-il faire et
combien ça coûte ?" alone says nothing a fiche could be written for). A question no
fiche can answer by nature (the state of one's own file, an office's hours:
generation.scope) is not a gap either. Each gap keeps its question and situation
(masked like the message; cleared by the retention purge), the topic (the theme of the
nearest fiche) and the fiches its search found nearest.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.masking import mask_personal_data
from api.models import FEEDBACK_REASONS, CoverageGap, DraftRecord, Feedback, utcnow
from generation.reading import GENERIC_WORDS
from generation.text import FOLDED_STOPWORDS, fold, words

NO_NEAREST_TOPIC = "Sans fiche proche"
# Words that name no subject either, beside reading's generic words: a question made of
# them and of generic words needs the message around it.
_UNSUBJECT = {fold(w) for w in GENERIC_WORDS} | {fold(w) for w in (
    "coûte coûter coûtent coute couter prix tarif délai délais durée temps date document documents "
    "papier papiers pièce pièces dossier formulaire étape étapes faudrait pourrait quelles quels").split()}
_VOWELS = set("aeiouy")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
_PLACEHOLDER = re.compile(r"^\[[A-Z_]+\d*\]$")
_EDGE_PUNCTUATION = "?!.,;:«»\"'()…"


def is_real_question(question: str, situation: list[str] | tuple[str, ...] = ()) -> bool:
    """A question a fiche could be written for (see the module's docstring)."""
    tokens = [t.strip(_EDGE_PUNCTUATION) for t in question.split()]
    tokens = [t for t in tokens if t]
    wordlike = [t for t in tokens if _PLACEHOLDER.match(t) or _is_word(t)]
    if len(wordlike) < 3 or len(wordlike) < 0.8 * len(tokens):
        return False  # symbols, bytes, a word or two
    if not any(w in FOLDED_STOPWORDS for w in _word_parts(question)):
        return False  # not a French sentence
    return any(_is_subject(w) for w in _word_parts(" ".join([question, *situation])))


def _word_parts(text: str) -> list[str]:
    """Folded words, split at apostrophes and hyphens ("faut-il": "faut", "il")."""
    return [part for word in words(text) for part in re.split(r"['’-]", fold(word.lower())) if part]


def _is_word(token: str) -> bool:
    letters = fold(token.lower())
    if token.isdigit():
        return True
    if not re.fullmatch(r"[a-z]+(?:['’-][a-z]+)*", letters):
        return False
    return bool(set(letters) & _VOWELS) and not _CONSONANT_RUN.search(letters)


def _is_subject(word: str) -> bool:
    return len(word) > 2 and not word.isdigit() and word not in FOLDED_STOPWORDS and word not in _UNSUBJECT


def record_gaps(session: Session, record: DraftRecord, draft: dict) -> list[CoverageGap]:
    """A CoverageGap per real question of `draft` left unanswered (its `unanswered`)."""
    needs = draft.get("needs") or []
    gaps = []
    for item in draft.get("unanswered") or []:
        index = item.get("need")
        if item.get("reason") != "low_confidence" or not isinstance(index, int) or not 0 <= index < len(needs):
            continue
        need = needs[index]
        if not need.get("asked", True):
            continue
        question, situation = need.get("question", ""), list(need.get("situation") or [])
        if not is_real_question(question, situation):
            continue
        nearest = [{k: fiche.get(k) for k in ("fiche_id", "title", "url", "score")} for fiche in item.get("nearest", [])]
        gap = CoverageGap(draft_id=record.id, question=mask_personal_data(question),
                          situation=[mask_personal_data(line) for line in situation],
                          topic=_topic(item.get("nearest", [])), nearest=nearest,
                          confidence=float(item.get("confidence") or 0.0))
        session.add(gap)
        gaps.append(gap)
    session.flush()
    return gaps


def _topic(nearest: list[dict]) -> str:
    for fiche in nearest:
        if fiche.get("themes"):
            return str(fiche["themes"][0])[:200]
    return NO_NEAREST_TOPIC


def purge_gap_texts(session: Session, cutoff: datetime) -> int:
    gaps = session.scalars(
        select(CoverageGap).where(CoverageGap.created_at < cutoff, CoverageGap.purged_at.is_(None))
    ).all()
    for gap in gaps:
        gap.question, gap.situation, gap.purged_at = None, [], utcnow()
    session.flush()
    return len(gaps)


def _normalise_question(question: str) -> str:
    return " ".join(question.lower().split()).rstrip(" ?.!")


def coverage_gaps(session: Session, limit: int = 50) -> list[dict]:
    """The recorded questions, most frequent first (case and end punctuation ignored)."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    last_seen: dict[str, str] = {}
    for question, created_at in session.execute(
        select(CoverageGap.question, CoverageGap.created_at).where(CoverageGap.question.is_not(None))
    ):
        norm = _normalise_question(question)
        counts[norm] += 1
        example.setdefault(norm, question)
        last_seen[norm] = max(last_seen.get(norm, ""), _iso(created_at))
    return [{"question": example[q], "count": n, "last_seen": last_seen[q]} for q, n in counts.most_common(limit)]


def week_starts(weeks: int, now: datetime | None = None) -> list[str]:
    """The Mondays (ISO dates) of the last `weeks` weeks, oldest first, this week last."""
    today = (now or utcnow()).date()
    monday = today - timedelta(days=today.weekday())
    return [(monday - timedelta(weeks=n)).isoformat() for n in range(weeks - 1, -1, -1)]


def _week_of(moment: datetime) -> str:
    day = moment.date()
    return (day - timedelta(days=day.weekday())).isoformat()


def _since(weeks: list[str]) -> datetime:
    return datetime.fromisoformat(weeks[0]).replace(tzinfo=timezone.utc)


def gap_groups(session: Session, weeks: int = 8, drafts_per_group: int = 5, limit: int = 30) -> dict:
    """The gaps of the last `weeks` weeks grouped by topic, largest first: each group's
    count per week, its nearest fiches (how often each came up), its questions and the
    drafts behind it (their masked message, cut)."""
    starts = week_starts(weeks)
    rows = session.scalars(
        select(CoverageGap).where(CoverageGap.created_at >= _since(starts)).order_by(CoverageGap.created_at.desc())
    ).all()
    by_topic: dict[str, list[CoverageGap]] = defaultdict(list)
    for gap in rows:
        by_topic[gap.topic].append(gap)
    groups = [_group(topic, gaps, starts, session, drafts_per_group)
              for topic, gaps in sorted(by_topic.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]]
    return {"weeks": starts, "groups": groups}


def _group(topic: str, gaps: list[CoverageGap], starts: list[str], session: Session, drafts_per_group: int) -> dict:
    per_week = Counter(_week_of(_aware(gap.created_at)) for gap in gaps)
    fiches: dict[str, dict] = {}
    for gap in gaps:
        for fiche in gap.nearest or []:
            entry = fiches.setdefault(fiche["fiche_id"], {**fiche, "count": 0})
            entry["count"] += 1
            entry["score"] = max(entry.get("score") or 0.0, fiche.get("score") or 0.0)
    questions = Counter(gap.question for gap in gaps if gap.question)
    draft_ids = list(dict.fromkeys(gap.draft_id for gap in gaps))[:drafts_per_group]
    records = {r.id: r for r in session.scalars(select(DraftRecord).where(DraftRecord.id.in_(draft_ids)))}
    return {
        "topic": topic,
        "count": len(gaps),
        "per_week": [per_week.get(week, 0) for week in starts],
        "nearest": sorted(fiches.values(), key=lambda f: (-f["count"], -(f.get("score") or 0.0)))[:5],
        "questions": [{"question": q, "count": n} for q, n in questions.most_common(10)],
        "drafts": [_draft_summary(records[i]) for i in draft_ids if i in records],
    }


MESSAGE_EXCERPT_CHARS = 400


def _draft_summary(record: DraftRecord) -> dict:
    message = record.message_masked
    return {
        "id": record.id,
        "created_at": _iso(record.created_at),
        "abstained": record.abstained,
        # Masked when stored (names, addresses, numbers replaced); cut; gone once purged.
        "message": message[:MESSAGE_EXCERPT_CHARS] + ("…" if len(message) > MESSAGE_EXCERPT_CHARS else "")
        if message else None,
        "purged": record.purged_at is not None,
    }


def feedback_over_time(session: Session, weeks: int = 8) -> dict:
    """Feedback of the last `weeks` weeks: per week, how many drafts were rated up and
    down, and how often each reason was given."""
    starts = week_starts(weeks)
    index = {week: i for i, week in enumerate(starts)}
    reasons = {reason: [0] * weeks for reason in FEEDBACK_REASONS}
    ratings = {"up": [0] * weeks, "down": [0] * weeks}
    for rating, given, created_at in session.execute(
        select(Feedback.rating, Feedback.reasons, Feedback.created_at).where(Feedback.created_at >= _since(starts))
    ):
        week = index.get(_week_of(_aware(created_at)))
        if week is None:
            continue
        if rating in ratings:
            ratings[rating][week] += 1
        for reason in given or []:
            if reason in reasons:
                reasons[reason][week] += 1
    return {"weeks": starts, "ratings": ratings, "reasons": reasons}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str:
    return _aware(moment).isoformat() if moment else ""
