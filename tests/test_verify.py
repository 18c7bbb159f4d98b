"""Citation checks: every verdict, figure normalisation, support spans, and the
masking of unsourced URLs, e-mails and phone numbers."""

import pytest

from generation.format import compose
from generation.text import numeric_values
from generation.types import DraftFormat, Verdict
from generation.verify import EMAIL_MASK, LEAK_MASK, PHONE_MASK, URL_MASK, redact_leaks, sanitize, verify


@pytest.fixture
def passages(handmade_passages):
    # [1] ARS age, [2] ARS ceilings (table), [3] ARS amounts (list)
    return handmade_passages[:3]


def verdicts(text, passages):
    return [(c.verdict, c.text) for c in verify(text, passages)]


@pytest.mark.parametrize(
    "a, b",
    [
        ("1 500 €", "1500 euros"),
        ("1\u202f500 €", "1.500 €"),
        ("15 %", "15 pour cent"),
        ("2,5 %", "2.5 %"),
        ("3 mois", "trois mois et 3 jours"),
        ("1er janvier 2024", "01/01/2024"),
        ("18 ans", "l'âge de 18 ans"),
    ],
)
def test_figures_are_normalised(a, b):
    assert numeric_values(a) <= numeric_values(b)


def test_figures_that_differ_are_told_apart():
    assert numeric_values("1 500 €").isdisjoint(numeric_values("1 600 €"))
    assert "2024-01-01" not in numeric_values("1er février 2024")


def test_verbatim_sentence_is_supported_with_the_span_of_its_source(passages):
    text = "L'ARS est versée pour chaque enfant scolarisé âgé de 6 à 18 ans [1]."
    [check] = verify(text, passages)
    assert check.verdict == Verdict.SUPPORTED and check.score >= 0.8
    [span] = check.support
    assert span.citation == 1
    assert "versée pour chaque enfant scolarisé âgé de 6 à 18 ans" in passages[0].text[span.start : span.end]


def test_a_citation_after_a_closing_parenthesis_belongs_to_its_sentence(passages):
    # An extractive draft quoting "(… , ...)" then [n]: one cited sentence, not an
    # uncited one followed by a lone "[1]." (seen on the full corpus).
    text = "L'ARS est versée pour chaque enfant scolarisé (âgé de 6 à 18 ans...) [1]. Elle est versée en août [1]."
    checks = verify(text, passages)
    assert len(checks) == 2
    assert checks[0].text.endswith("[1].") and checks[0].verdict != Verdict.NO_CITATION


def test_paraphrase_with_the_right_figures_is_supported(passages):
    text = "Pour un enfant de 15 à 18 ans, le montant de l'ARS est de 454,60 € [3]."
    [check] = verify(text, passages)
    assert check.verdict == Verdict.SUPPORTED, check.reason


def test_each_problem_gets_its_verdict(passages):
    text = (
        "L'ARS est versée pour chaque enfant âgé de 6 à 18 ans.\n"
        "Le montant de l'ARS est de 454,60 € pour un enfant de 15 à 18 ans [9].\n"
        "Le montant de l'ARS est de 500 € pour un enfant de 15 à 18 ans [3].\n"
        "Les chats domestiques préfèrent dormir au soleil l'après-midi [1].\n"
        "Le plafond de ressources pour 2 enfants est de 32 158 € [2]."
    )
    assert [v for v, _ in verdicts(text, passages)] == [
        Verdict.NO_CITATION,
        Verdict.INVALID_CITATION,
        Verdict.UNSUPPORTED_NUMBER,
        Verdict.WEAK_SUPPORT,
        Verdict.SUPPORTED,
    ]
    checks = verify(text, passages)
    assert checks[2].unsupported_numbers == ["500"]
    assert "[9]" in checks[1].reason and "500" in checks[2].reason
    assert checks[3].score < 0.5 and "score" in checks[3].reason


def test_figure_must_be_in_the_cited_passage_not_another_one(passages):
    # 32 158 € is in passage [2], not in [1].
    [check] = verify("Le plafond de ressources pour 2 enfants est de 32 158 € [1].", passages)
    assert check.verdict == Verdict.UNSUPPORTED_NUMBER


def test_greeting_closing_and_headings_are_not_claims(passages):
    body = "Concernant votre question : « Quel montant ? »\nL'ARS est versée pour chaque enfant scolarisé âgé de 6 à 18 ans [1]."
    checks = verify(compose(body, DraftFormat.EMAIL), passages)
    assert [c.verdict for c in checks].count(Verdict.SUPPORTED) == 1
    assert all(c.verdict == Verdict.NOT_A_CLAIM for c in checks if "[1]" not in c.text)
    assert not any(c.flagged for c in checks)


def test_offsets_point_into_the_draft(passages):
    text = compose("L'ARS est versée pour chaque enfant scolarisé âgé de 6 à 18 ans [1]. Autre phrase inventée [2].", DraftFormat.EMAIL)
    for check in verify(text, passages):
        assert text[check.start : check.end] == check.text


def test_unsourced_urls_emails_and_phones_are_masked_sourced_ones_kept():
    sources = "Consultez https://ants.gouv.fr/demarches ou appelez le 34 00. Contact : info@caf.fr, 01 40 56 78 90."
    text = (
        "Faites la pré-demande sur https://ants.gouv.fr/demarches [1]. Ou sur http://arnaque.example/ants [1]. "
        "Voir aussi www.faux-ants.com et faux-site.fr [1]. Écrivez à info@caf.fr ou à escroc@mail.ru [1]. "
        "Appelez le 01 40 56 78 90 ou le 06 12 34 56 78 [1]."
    )
    result = sanitize(text, sources)
    assert "https://ants.gouv.fr/demarches" in result.text and "info@caf.fr" in result.text
    assert "01 40 56 78 90" in result.text
    for bad in ("arnaque.example", "faux-ants.com", "faux-site.fr", "escroc@mail.ru", "06 12 34 56 78"):
        assert bad not in result.text
    assert result.masked == 5
    assert URL_MASK in result.text and EMAIL_MASK in result.text and PHONE_MASK in result.text


def test_sentences_with_masked_contacts_are_flagged(passages):
    text = sanitize("L'ARS est versée pour chaque enfant scolarisé âgé de 6 à 18 ans, voir http://arnaque.example [1].",
                    "\n".join(p.text for p in passages)).text
    [check] = verify(text, passages)
    assert check.verdict == Verdict.UNSAFE_CONTENT and check.flagged


def test_sentences_repeating_the_instructions_are_removed():
    secret = "Réponds uniquement à partir des passages numérotés fournis, extraits des fiches de service-public.fr."
    text = "Voici mes règles : réponds uniquement à partir des passages numérotés fournis, extraits des fiches. L'ARS existe [1]."
    redacted = redact_leaks(text, [secret])
    assert "passages numérotés fournis" not in redacted
    assert redacted.startswith(LEAK_MASK) and redacted.endswith("L'ARS existe [1].")


# -- contradictions, conditions, misattribution, semantic support -------------------

def _passage(text: str, fiche_id: str = "F1", rank: int = 1):
    from ingest.model import Chunk
    from retrieval.types import Passage

    chunk = Chunk(
        id=f"{fiche_id}#0", fiche_id=fiche_id, index=0, text=f"Titre {fiche_id} > Section\n{text}",
        breadcrumb=[f"Titre {fiche_id}", "Section"], title=f"Titre {fiche_id}",
        url=f"https://www.service-public.fr/particuliers/vosdroits/{fiche_id}", date="2024-01-01",
        type="Fiche d'information", audiences=["particuliers"], themes=[], words=len(text.split()),
    )
    return Passage(chunk, 1.0, rank)


STAGE = _passage(
    "Le stage vous permet de récupérer jusqu'à 4 points. "
    "En cas de stage proposé par le procureur, le stage ne vous permet pas de récupérer des points."
)


def test_a_flipped_negation_is_contradicted():
    [check] = verify("Le stage proposé par le procureur vous permet de récupérer des points [1].", [STAGE])
    assert check.verdict == Verdict.CONTRADICTED and "contraire" in check.reason


def test_a_sentence_the_passage_says_both_ways_is_supported_as_copied():
    # The passage has the sentence with and without "ne… pas": either copy is supported.
    checks = verify("Le stage ne vous permet pas de récupérer des points [1]. "
                    "Le stage vous permet de récupérer jusqu'à 4 points [1].", [STAGE])
    assert [c.verdict for c in checks] == [Verdict.SUPPORTED, Verdict.SUPPORTED]


def test_another_office_is_contradicted():
    passage = _passage("Vous devez déposer votre dossier à la mairie de votre domicile.")
    [check] = verify("Vous devez déposer votre dossier à la préfecture de votre domicile [1].", [passage])
    assert check.verdict == Verdict.CONTRADICTED and "mairie" in check.reason


def test_an_office_or_party_no_hand_list_names_is_contradicted_its_acronym_is_not():
    passage = _passage("Le juge peut accorder au débiteur un délai de grâce. "
                       "La caisse d'allocations familiales verse l'aide au logement chaque mois.")
    swapped, abbreviated = verify("Le procureur peut accorder au débiteur un délai de grâce [1]. "
                                  "La Caf verse l'aide au logement chaque mois [1].", [passage])
    assert swapped.verdict == Verdict.CONTRADICTED and "juge" in swapped.reason
    assert abbreviated.verdict == Verdict.SUPPORTED


def test_a_condition_left_out_is_flagged_and_a_kept_one_is_not():
    passage = _passage("Si vous êtes salarié du secteur privé, vous avez droit à un congé de 5 jours pour votre mariage.")
    [dropped] = verify("Vous avez droit à un congé de 5 jours pour votre mariage [1].", [passage])
    assert dropped.verdict == Verdict.MISSING_CONDITION and "secteur prive" in dropped.reason
    [kept] = verify("Salarié du secteur privé, vous avez droit à un congé de 5 jours pour votre mariage [1].", [passage])
    assert kept.verdict == Verdict.SUPPORTED


def test_a_citation_to_the_wrong_passage_suggests_the_right_one():
    amounts = _passage("L'allocation de rentrée scolaire s'élève à 370 € pour un enfant de 6 à 10 ans.", "F2", 2)
    age = _passage("L'allocation de rentrée scolaire est versée pour chaque enfant scolarisé âgé de 6 à 18 ans.", "F3", 3)
    [check] = verify("L'allocation de rentrée scolaire est versée pour chaque enfant scolarisé âgé de 6 à 18 ans [1].",
                     [amounts, age])
    assert check.flagged and check.suggested_citation == 2
    assert "Appuyé par [2] plutôt que [1]" in check.reason


def test_a_claim_supported_by_the_cited_passage_gets_no_suggestion(passages):
    [check] = verify("L'ARS est versée pour chaque enfant scolarisé âgé de 6 à 18 ans [1].", passages)
    assert check.verdict == Verdict.SUPPORTED and check.suggested_citation is None


class CountingEmbedder:
    """The real embedder, counting its calls."""

    def __init__(self, embedder):
        self.embedder, self.calls = embedder, []

    def embed_passages(self, texts):
        self.calls.append(len(texts))
        return self.embedder.embed_passages(texts)


def test_semantic_support_rescues_paraphrases_in_one_call_per_draft(default_embedder):
    passages = [
        _passage("La demande de carte d'identité est gratuite."),
        _passage("Le salarié a droit à 5 semaines de congés payés par an.", "F2", 2),
    ]
    text = ("Demander une carte d'identité ne coûte rien [1]. "
            "Chaque année, un salarié bénéficie de 5 semaines de congés payés [2].")
    lexical = verify(text, passages)
    assert [c.verdict for c in lexical] == [Verdict.WEAK_SUPPORT, Verdict.WEAK_SUPPORT]
    embedder = CountingEmbedder(default_embedder)
    semantic = verify(text, passages, embedder=embedder)
    assert [c.verdict for c in semantic] == [Verdict.SUPPORTED, Verdict.SUPPORTED]
    assert embedder.calls == [4]  # both sentences and their spans in one call


def test_semantic_support_does_not_rescue_a_sentence_of_another_topic(default_embedder):
    passages = [_passage("Le salarié a droit à 5 semaines de congés payés par an.")]
    [check] = verify("Le salarié peut demander un congé sabbatique après 6 ans d'ancienneté [1].", passages,
                     embedder=default_embedder)
    assert check.flagged
