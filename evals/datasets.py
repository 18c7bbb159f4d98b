"""Question sets: one JSON object per line.

    {"id": "...", "question": "...", "gold": ["F1234", ...], "answers": ["span", ...]}

`gold` lists the fiche IDs that answer the question, best first (empty for a question
the corpus does not answer). `answers` (optional) are verbatim spans of a gold fiche.
Extra keys are kept in `Question.extra` (build-sets writes `kind` and `leaky`).

A row may carry the e-mail itself, `message`: it is then evaluated on the message,
read as the API reads it, and `question` is only its label. `gold` belongs to the
message's first question, `gold_q2`, `gold_q3` to the next ones (with their labels
`question_q2`, `question_q3`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.atomic import write_atomic
from ingest.model import FICHE_ID

REQUIRED_KEYS = ("id", "question", "gold")


class DatasetError(ValueError):
    """A question set is not valid; the message names the file and line."""


@dataclass
class Question:
    id: str
    question: str
    gold: list[str]
    answers: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.extra.get("kind", ""))

    @property
    def message(self) -> str | None:
        """The e-mail as pasted, for rows evaluated through the reading of the message."""
        message = self.extra.get("message")
        return message if isinstance(message, str) and message.strip() else None

    @property
    def golds(self) -> list[list[str]]:
        """Gold fiches of each question of the row: `gold`, then `gold_q2`, `gold_q3`…"""
        golds = [self.gold]
        number = 2
        while isinstance(self.extra.get(f"gold_q{number}"), list):
            golds.append(list(self.extra[f"gold_q{number}"]))
            number += 1
        return golds

    @property
    def labels(self) -> list[str]:
        """The restated question of each gold (`question`, `question_q2`…), for reports."""
        return [self.question] + [str(self.extra.get(f"question_q{n}", "")) for n in range(2, len(self.golds) + 1)]

    def to_dict(self) -> dict:
        data = {"id": self.id, "question": self.question, "gold": self.gold}
        if self.answers:
            data["answers"] = self.answers
        data.update(self.extra)
        return data


def default_evalsets_dir(repo: Path | None = None) -> Path:
    """The shared human-made sets: $GUICHET_EVALSETS, else ../shared/evalsets beside the repo."""
    if os.environ.get("GUICHET_EVALSETS"):
        return Path(os.environ["GUICHET_EVALSETS"])
    repo = repo or Path(__file__).resolve().parent.parent
    return repo.parent / "shared" / "evalsets"


def parse_question(raw: str, where: str) -> Question:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(data).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise DatasetError(f"{where}: missing key(s) {', '.join(missing)}")
    qid, question, gold = data.pop("id"), data.pop("question"), data.pop("gold")
    answers = data.pop("answers", [])
    if not isinstance(qid, str) or not qid.strip():
        raise DatasetError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise DatasetError(f"{where}: 'gold' must be a list of fiche IDs")
    bad = [g for g in gold if not FICHE_ID.match(g)]
    if bad:
        raise DatasetError(f"{where}: 'gold' has invalid fiche ID(s) {bad[:3]} (expected e.g. F1234, TE-article374530, CDTN-45)")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise DatasetError(f"{where}: 'answers' must be a list of non-empty strings")
    _check_message_fields(data, where)
    return Question(qid, question.strip(), list(gold), list(answers), data)


def _check_message_fields(data: dict, where: str) -> None:
    message = data.get("message")
    if message is not None and (not isinstance(message, str) or not message.strip()):
        raise DatasetError(f"{where}: 'message' must be a non-empty string (the e-mail as pasted)")
    for key, value in data.items():
        if re.fullmatch(r"gold_q\d+", key):
            if not isinstance(value, list) or not all(isinstance(g, str) and FICHE_ID.match(g) for g in value):
                raise DatasetError(f"{where}: {key!r} must be a list of fiche IDs (e.g. F1234)")


def load_dataset(path: str | Path) -> list[Question]:
    """Read and validate a JSONL question set; raises DatasetError naming the line."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such question set")
    questions: list[Question] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            question = parse_question(raw, where)
            if question.id in seen:
                raise DatasetError(f"{where}: duplicate id {question.id!r} (first on line {seen[question.id]})")
            seen[question.id] = number
            questions.append(question)
    if not questions:
        raise DatasetError(f"{path}: the question set is empty")
    return questions


def write_dataset(path: str | Path, questions: list[Question]) -> None:
    """Write atomically (a temporary file renamed), so a failed run leaves no half file."""
    write_atomic(Path(path), "".join(json.dumps(q.to_dict(), ensure_ascii=False) + "\n" for q in questions))


def restrict_to(questions: list[Question], fiche_ids: set[str]) -> list[Question]:
    """Keep the questions whose gold fiches are all known (e.g. present in the index),
    and the unanswerable ones (empty gold)."""
    return [q for q in questions if all(g in fiche_ids for g in q.gold)]
