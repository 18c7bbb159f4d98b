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
