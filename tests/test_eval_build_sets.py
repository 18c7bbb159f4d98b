"""build-sets: the rules on hand-written trees, then the real sample (deterministic)."""

import json

from click.testing import CliRunner

from evals.build_sets import LABEL_KINDS, OUT_OF_SCOPE, build_sets, document_from_root
from evals.cli import eval_group
from evals.datasets import load_dataset
from evals.metrics import normalise
from ingest.tree import from_xml

GUIDE = """<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F900" type="Recherche guidée"><dc:title>Passeport</dc:title>
<Problematiques><Problematique><Titre><Paragraphe>Demande en France</Paragraphe></Titre>
<Branche><Titre><Paragraphe>Pour un mineur</Paragraphe></Titre>
<LienInterne LienPublication="F901"/></Branche>
<Branche><Titre><Paragraphe>Pour un majeur</Paragraphe></Titre>
<Branche><Titre><Paragraphe>Première demande</Paragraphe></Titre><LienInterne LienPublication="F902"/></Branche>
</Branche></Problematique></Problematiques></Publication>"""
MINOR = """<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F901" type="Fiche Question-réponse"><dc:title>Passeport d'un mineur : comment faire ?</dc:title>
<Texte><Definition ID="R1"><Titre>Autorité parentale</Titre><Texte>…</Texte></Definition></Texte>
<QuestionReponse ID="F902">Quel délai pour un premier passeport ?</QuestionReponse>
<CommentFaireSi ID="F903">Je pars à l'étranger</CommentFaireSi></Publication>"""
ADULT = """<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F902" type="Fiche d'information"><dc:title>Passeport d'un majeur</dc:title></Publication>"""
EVENT = """<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="F903" type="Fiche Comment faire si"><dc:title>Je pars à l'étranger</dc:title></Publication>"""
DOSSIER = """<Publication xmlns:dc="http://purl.org/dc/elements/1.1/" ID="N10" type="Dossier"><dc:title>Papiers</dc:title>
<Fiche ID="F902">Passeport (majeur)</Fiche><Fiche ID="F901">Passeport d'un mineur : comment faire ?</Fiche>
<Fiche ID="F999">Fiche absente du corpus</Fiche></Publication>"""


def handmade_documents():
    return [document_from_root(from_xml(x)) for x in (DOSSIER, EVENT, ADULT, MINOR, GUIDE)]


def by_kind(built):
    table = {}
    for question in built.titles + built.labels + built.uncovered:
        table.setdefault(question.kind, []).append(question)
    return table


def test_each_kind_follows_its_rule():
    kinds = by_kind(build_sets(handmade_documents()))
    assert [(q.question, q.gold) for q in kinds["qr_title"]] == [("Passeport d'un mineur : comment faire ?", ["F901"])]
    assert kinds["qr_title"][0].extra["leaky"] is True
    assert [(q.question, q.gold) for q in kinds["guided_path"]] == [  # sorted by label
        ("Passeport : Demande en France, Pour un majeur, Première demande", ["F902"]),
        ("Passeport : Demande en France, Pour un mineur", ["F901"]),
    ]
    assert [(q.question, q.gold) for q in kinds["related_question"]] == [("Quel délai pour un premier passeport ?", ["F902"])]
    # A dossier label equal to the target's title, or pointing outside the corpus, is left out.
    assert [(q.question, q.gold) for q in kinds["dossier_label"]] == [("Passeport (majeur)", ["F902"])]
    assert [(q.question, q.gold, q.extra.get("leaky")) for q in kinds["life_event"]] == [
        ("Je pars à l'étranger", ["F903"], True)]
    assert [(q.question, q.gold) for q in kinds["glossary"]] == [("Que signifie « Autorité parentale » ?", ["F901"])]
    assert len(kinds["out_of_scope"]) == sum(len(topics) for topics in OUT_OF_SCOPE.values())
    assert all(q.gold == [] for q in kinds["out_of_scope"])


def test_input_order_does_not_change_the_sets():
    first = build_sets(handmade_documents())
    second = build_sets(list(reversed(handmade_documents())))
    assert [q.to_dict() for q in first.labels] == [q.to_dict() for q in second.labels]


def test_sampling_is_seeded():
    documents = handmade_documents()
    assert len(build_sets(documents, max_per_kind=1).labels) == len(LABEL_KINDS)
    one = [q.id for q in build_sets(documents, max_per_kind=1, seed=1).labels]
    assert one == [q.id for q in build_sets(documents, max_per_kind=1, seed=1).labels]


def test_build_sets_on_the_sample_is_deterministic(tmp_path, sample_source_dir, sample_fiches):
    runner = CliRunner()
    outputs = []
    for name in ("a", "b"):
        result = runner.invoke(eval_group, ["build-sets", "--source", str(sample_source_dir), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append({f.name: f.read_bytes() for f in sorted((tmp_path / name).glob("*.jsonl"))})
    assert outputs[0] == outputs[1]
    titles = {f.id: f.title for f in sample_fiches}
    labels = load_dataset(tmp_path / "a" / "labels.jsonl")
    assert {"qr_title"} == {q.kind for q in load_dataset(tmp_path / "a" / "titles.jsonl")}
    assert len({q.kind for q in labels}) >= 2
    for question in labels:
        assert all(g in titles for g in question.gold), question
        if not question.extra.get("leaky"):
            assert all(normalise(question.question) != normalise(titles[g]) for g in question.gold)
    info = json.loads((tmp_path / "a" / "build-info.json").read_text())
    assert info["counts"]["out_of_scope"] == len(load_dataset(tmp_path / "a" / "uncovered.jsonl"))


def test_unknown_source_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(eval_group, ["build-sets", "--source", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "nowhere" in result.output


def test_the_calibration_and_evaluation_out_of_scope_pools_share_no_subject():
    """The confidence model is fitted on one pool of out-of-scope questions and the
    evaluation measures abstention on another: no question, and no word of an
    evaluation subject, in both."""
    from evals.calibrate_needs import OUT_OF_SCOPE_MESSAGES
    from generation.text import content_tokens
    from retrieval.dev.calibrate import OUT_OF_SCOPE as CALIBRATION_OUT_OF_SCOPE

    calibration = CALIBRATION_OUT_OF_SCOPE + OUT_OF_SCOPE_MESSAGES
    evaluation = [template.format(topic) for template, topics in OUT_OF_SCOPE.items() for topic in topics]
    assert not set(calibration) & set(evaluation)
    subjects = {t for topics in OUT_OF_SCOPE.values() for topic in topics for t in content_tokens(topic)}
    shared = {t for question in calibration for t in content_tokens(question)} & subjects
    assert not shared
