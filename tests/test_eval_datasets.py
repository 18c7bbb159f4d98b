"""Question-set validation: every error names the file and line."""

import json

import pytest

from evals.datasets import DatasetError, Question, load_dataset, restrict_to, write_dataset


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_keeps_extra_keys(tmp_path):
    questions = [
        Question("a", "Comment refaire ma carte d'identité ?", ["F1341"], ["en mairie"], {"kind": "x"}),
        Question("b", "Recette de la tarte tatin ?", [], extra={"kind": "out_of_scope"}),
    ]
    path = tmp_path / "set.jsonl"
    write_dataset(path, questions)
    loaded = load_dataset(path)
    assert [q.to_dict() for q in loaded] == [q.to_dict() for q in questions]
    assert loaded[0].kind == "x"
    assert not (tmp_path / "set.jsonl.tmp").exists()


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not valid JSON"),
        ('["F1"]', "expected a JSON object"),
        ('{"id": "a", "question": "q ?"}', "missing key(s) gold"),
        ('{"id": "", "question": "q ?", "gold": []}', "'id' must be"),
        ('{"id": "a", "question": " ", "gold": []}', "'question' must be"),
        ('{"id": "a", "question": "q ?", "gold": "F1"}', "'gold' must be a list"),
        ('{"id": "a", "question": "q ?", "gold": ["fiche 12"]}', "'gold' has invalid fiche ID"),
        ('{"id": "a", "question": "q ?", "gold": ["F1"], "answers": [""]}', "'answers' must be"),
    ],
)
def test_invalid_line_is_named(tmp_path, line, message):
    good = json.dumps({"id": "ok", "question": "Bonjour ?", "gold": ["F1"]})
    path = write_lines(tmp_path / "bad.jsonl", [good, "", line])
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    assert f"bad.jsonl:3: {message}" in str(error.value)


def test_duplicate_ids_and_empty_files_are_refused(tmp_path):
    line = json.dumps({"id": "x", "question": "Bonjour ?", "gold": ["F1"]})
    with pytest.raises(DatasetError, match=r"dup.jsonl:2: duplicate id 'x' \(first on line 1\)"):
        load_dataset(write_lines(tmp_path / "dup.jsonl", [line, line]))
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(write_lines(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(DatasetError, match="no such question set"):
        load_dataset(tmp_path / "missing.jsonl")


def test_restrict_to_known_fiches():
    questions = [Question("a", "q", ["F1"]), Question("b", "q", ["F1", "F2"]), Question("c", "q", [])]
    assert [q.id for q in restrict_to(questions, {"F1"})] == ["a", "c"]


def test_shared_piaf_sets_are_valid(evalsets_dir):
    for name in ("piaf_questions_spf.jsonl", "piaf_spf_qr_spans.jsonl"):
        questions = load_dataset(evalsets_dir / name)
        assert questions and all(q.gold for q in questions)


EMAIL_ROW = {"id": "m", "question": "Révision du loyer", "gold": ["F1311"],
             "message": "Bonjour, comment se fait la révision du loyer ? Et quel préavis pour partir ?",
             "gold_q2": ["F1168", "F929"], "question_q2": "Préavis du locataire"}


def test_message_row_loads_with_golds_and_labels_per_question(tmp_path):
    (question,) = load_dataset(write_lines(tmp_path / "emails.jsonl", [json.dumps(EMAIL_ROW)]))
    assert question.message == EMAIL_ROW["message"]
    assert question.golds == [["F1311"], ["F1168", "F929"]]
    assert question.labels == ["Révision du loyer", "Préavis du locataire"]
    plain = Question("p", "Quel préavis ?", ["F1168"])
    assert plain.message is None and plain.golds == [["F1168"]] and plain.labels == ["Quel préavis ?"]


def test_golds_stop_at_the_first_missing_number():
    question = Question("m", "q", ["F1"], extra={"gold_q2": ["F2"], "gold_q4": ["F4"], "question_q2": "deux"})
    assert question.golds == [["F1"], ["F2"]]
    assert question.labels == ["q", "deux"]


@pytest.mark.parametrize("change, message", [
    ({"message": "  \n "}, "'message' must be a non-empty string"),
    ({"message": 12}, "'message' must be a non-empty string"),
    ({"gold_q2": "F1168"}, "'gold_q2' must be a list of fiche IDs"),
    ({"gold_q2": ["préavis"]}, "'gold_q2' must be a list of fiche IDs"),
    ({"gold_q3": [1168]}, "'gold_q3' must be a list of fiche IDs"),
])
def test_invalid_message_fields_are_named(tmp_path, change, message):
    good = json.dumps({"id": "ok", "question": "Bonjour ?", "gold": ["F1"]})
    path = write_lines(tmp_path / "emails.jsonl", [good, json.dumps(EMAIL_ROW | change)])
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    assert f"emails.jsonl:2: {message}" in str(error.value)


def test_labour_law_ids_are_accepted(tmp_path):
    row = {"id": "t", "question": "Préavis ?", "gold": ["TE-article374530", "CDTN-45", "F2883"],
           "gold_q2": ["TE-12509", "TE-article-ACFg1E"]}
    [question] = load_dataset(write_lines(tmp_path / "travail.jsonl", [json.dumps(row, ensure_ascii=False)]))
    assert question.golds == [row["gold"], row["gold_q2"]]
    for bad in (["TE-"], ["CDTN-abc"], ["te-article1"]):
        with pytest.raises(DatasetError, match="invalid fiche ID"):
            load_dataset(write_lines(tmp_path / "bad.jsonl", [json.dumps(row | {"gold": bad})]))


def test_repository_labour_law_set_is_valid():
    from pathlib import Path

    questions = load_dataset(Path(__file__).resolve().parents[1] / "evals" / "sets" / "emails_travail.jsonl")
    assert len(questions) >= 12 and all(q.gold and q.answers and q.message for q in questions)
    ids = [g for q in questions for gold in q.golds for g in gold]
    for prefix in ("F", "TE-", "CDTN-"):  # gold fiches of the three sources
        assert any(g.startswith(prefix) for g in ids), prefix
