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
