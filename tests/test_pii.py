"""Personal data masking: rules per kind, the measured rate on 34 written messages,
and what reaches the LLM server and the logs."""

import json
import logging
import re
from pathlib import Path

import pytest

from generation.pii import mask, unmask
from generation.service import DraftService
from generation.settings import GenerationSettings, LLMSettings
from generation.types import DraftMode

DATASET = Path(__file__).parent / "data" / "pii_messages.jsonl"


def load_dataset() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_masked(value: str, text: str) -> bool:
    """Strict: no verbatim or reformatted copy, and no capitalised word of it left."""
    flat = lambda s: re.sub(r"[\s.()-]", "", s).lower()  # noqa: E731
    if value in text or flat(value) in flat(text):
        return False
    for word in re.findall(r"[A-Za-zÀ-ÿ][\w'-]{2,}", value):
        if word[0].isupper() and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
            return False
    return True


def masked_rate(texts: list[str], records: list[dict]) -> float:
    values = [(v, text) for text, record in zip(texts, records) for v in record["values"]]
    return sum(is_masked(v, text) for v, text in values) / len(values)


def test_measured_masking_rate_is_at_least_99_percent():
    records = load_dataset()
    # A value absent from its message would count as masked: the rate would be void.
    assert all(v in r["message"] for r in records for v in r["values"])
    rate = masked_rate([mask(r["message"]).text for r in records], records)
    print(f"PII masked: {rate:.4f} of {sum(len(r['values']) for r in records)} values")
    assert rate >= 0.99


# Whole e-mails as agents receive them, and exactly what may leave for the LLM.
EMAILS = [
    (
        "Bonjour,\nJe m'appelle Sophie Marchand et j'habite 27 rue Victor Hugo, 33000 Bordeaux. "
        "Mon numéro de sécurité sociale est le 2 85 07 33 063 118 42. Pouvez-vous me dire si j'ai droit "
        "à la prime d'activité ?\nVous pouvez me joindre au 06 71 23 45 98 ou à sophie.marchand@gmail.com.\n"
        "Cordialement,\nSophie Marchand",
        "Bonjour,\nJe m'appelle [NOM_1] et j'habite [ADRESSE_1]. "
        "Mon numéro de sécurité sociale est le [NIR_1]. Pouvez-vous me dire si j'ai droit "
        "à la prime d'activité ?\nVous pouvez me joindre au [TELEPHONE_1] ou à [EMAIL_1].\n"
        "Cordialement,\n[NOM_1]",
    ),
    (
        "Madame, Monsieur,\nMon fils Lucas Fernandes, né le 04/11/2008, va entrer au lycée. La Caf doit-elle "
        "verser l'allocation de rentrée scolaire sur mon compte IBAN FR14 2004 1010 0505 0001 3M02 606 ?\n"
        "Merci d'avance,\nAna Fernandes",
        "Madame, Monsieur,\nMon fils [NOM_1], né le [DATE_NAISSANCE_1], va entrer au lycée. La Caf doit-elle "
        "verser l'allocation de rentrée scolaire sur mon compte IBAN [IBAN_1] ?\n"
        "Merci d'avance,\n[NOM_2]",
    ),
    (
        "Bonjour, je suis M. Karim Benali, numéro fiscal 1234567890123. Mon propriétaire, Monsieur Lefèvre, "
        "refuse de me rendre le dépôt de garantie. Que puis-je faire ? Tél : +33 7 88 12 34 56",
        "Bonjour, je suis M. [NOM_1], numéro fiscal [NUMERO_FISCAL_1]. Mon propriétaire, Monsieur [NOM_2], "
        "refuse de me rendre le dépôt de garantie. Que puis-je faire ? Tél : [TELEPHONE_1]",
    ),
    (
        "Bonjour,\nMon numéro de dossier est en cours de traitement depuis mars. Mon numéro d'allocataire "
        "est le 1234567 et mon numéro de passeport est 19AB12345 et il expire en juin.\nMerci",
        "Bonjour,\nMon numéro de dossier est en cours de traitement depuis mars. Mon numéro d'allocataire "
        "est le [IDENTIFIANT_1] et mon numéro de passeport est [IDENTIFIANT_2] et il expire en juin.\nMerci",
    ),
]


@pytest.mark.parametrize("message, expected", EMAILS, ids=["nir-address", "iban-birth", "fiscal-phone", "file-numbers"])
def test_an_email_keeps_every_word_but_its_personal_values(message, expected):
    masked = mask(message)
    assert masked.text == expected
    for value in masked.mapping.values():
        assert value in message and not is_masked(value, message)
        assert is_masked(value, masked.text), value
    assert unmask(masked.text, masked.mapping) == message


def test_a_known_name_is_masked_everywhere_even_its_surname_alone():
    message = ("Bonjour, je suis Claire Dubreuil. Mon ex-mari, Paul Dubreuil, ne verse plus la pension. "
               "Madame Dubreuil (moi) a saisi le juge.\nClaire Dubreuil")
    masked = mask(message)
    assert masked.text == ("Bonjour, je suis [NOM_1]. Mon ex-mari, [NOM_3], ne verse plus la pension. "
                           "Madame [NOM_2] (moi) a saisi le juge.\n[NOM_1]")
    assert unmask(masked.text, masked.mapping) == message


@pytest.mark.parametrize(
    "text, kind",
    [
        ("écrivez à jean.dupont+caf@exemple-mail.fr svp", "EMAIL"),
        ("appelez le 06 12 34 56 78", "TELEPHONE"),
        ("appelez le 0612345678", "TELEPHONE"),
        ("appelez le 06.12.34.56.78", "TELEPHONE"),
        ("appelez le 06-12-34-56-78", "TELEPHONE"),
        ("appelez le +33 6 12 34 56 78", "TELEPHONE"),
        ("appelez le +33612345678", "TELEPHONE"),
        ("mon NIR 1 84 12 75 108 234 56 merci", "NIR"),
        ("mon NIR 184127510823456 merci", "NIR"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189", "IBAN"),
        ("numéro fiscal : 3012345678901", "NUMERO_FISCAL"),
        ("SPI 30 12 345 678 901", "NUMERO_FISCAL"),
        ("j'habite 12 rue des Lilas, 69003 Lyon", "ADRESSE"),
        ("j'habite 4 bis avenue du Général Leclerc", "ADRESSE"),
        ("née le 12/03/1985 à Lille", "DATE_NAISSANCE"),
        ("Je m'appelle Marie-Claire Dubois-Martin.", "NOM"),
        ("Madame Nguyen a appelé.", "NOM"),
        ("Cordialement, Jean Dupont", "NOM"),
    ],
)
def test_each_kind_is_masked_with_its_placeholder(text, kind):
    masked = mask(text)
    assert any(p.startswith(f"[{kind}_") for p in masked.mapping), masked.mapping
    assert unmask(masked.text, masked.mapping) == text


def test_same_value_same_placeholder_and_unmask_by_kind():
    text = "Je m'appelle Léa Roux, tél 06 12 34 56 78. Rappelez au 06 12 34 56 78.\nLéa Roux"
    masked = mask(text)
    assert masked.text.count("[TELEPHONE_1]") == 2 and masked.text.count("[NOM_1]") == 2
    only_names = unmask("Madame [NOM_1], nous vous rappelons au [TELEPHONE_1].", masked.mapping, ["NOM"])
    assert only_names == "Madame Léa Roux, nous vous rappelons au [TELEPHONE_1]."


@pytest.mark.parametrize(
    "text",
    [
        "Le plafond est de 26 128 € pour 1 enfant en 2024.",
        "Article L. 1234-5 du code du travail ; délai de 3 mois.",
        "Je suis retraitée et je voudrais savoir si la CSG est due.",
        "Bonjour Madame la Directrice, quel est le délai pour la Carte Vitale ?",
        "Je suis Français et je vis au Canada depuis 12 ans.",
        "Le congé de maternité dure 16 semaines, soit 112 jours.",
        "Mon numéro de dossier est en cours de traitement.",
        "Le numéro de permis est demandé par la préfecture de Seine-Saint-Denis.",
        "Le 15 mars 2024, j'ai déposé ma demande à la mairie.",
        "Appelez le 39 39 ou le 3646 pour joindre l'Assurance maladie.",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert mask(text).text == text


@pytest.fixture
def llm_service(openai_server, passage_retriever):
    openai_server.script("L'allocation de rentrée scolaire est versée pour chaque enfant scolarisé âgé de 6 à 18 ans [1].")
    settings = LLMSettings(base_url=openai_server.base_url, timeout_s=5)
    # Every message goes to the LLM, whatever the retrieval confidence.
    return DraftService(passage_retriever, settings, settings=GenerationSettings(min_confidence=0.0))


def test_llm_server_and_retriever_never_receive_a_personal_value(llm_service, openai_server, passage_retriever):
    records = load_dataset()
    for record in records:
        llm_service.draft(record["message"], mode=DraftMode.LLM)
    assert len(openai_server.requests) == len(records)
    # What derives from the message: the questions and the fenced message (the passages
    # come from the index; a fiche's date may equal a birth date by chance).
    sent = "\n".join(
        m["content"].split("Questions identifiées", 1)[-1]
        for request in openai_server.requests
        for m in request["messages"]
        if m["role"] == "user"
    )
    assert sent.count("<message_citoyen>") == len(records)
    queries = "\n".join(passage_retriever.searches)
    leaked = [v for r in records for v in r["values"] if not is_masked(v, sent) or not is_masked(v, queries)]
    assert leaked == []


def test_message_text_is_never_logged(openai_server, passage_retriever, caplog):
    openai_server.script("x", mode="http500")
    service = DraftService(passage_retriever, LLMSettings(base_url=openai_server.base_url, timeout_s=5),
                           settings=GenerationSettings(min_confidence=0.0))
    record = load_dataset()[2]
    with caplog.at_level(logging.DEBUG):
        draft = service.draft(record["message"], mode=DraftMode.LLM)
    assert draft.notices  # the fallback happened and was logged
    assert "HTTP 500" in caplog.text
    for value in record["values"]:
        assert value not in caplog.text
    assert "carte grise" not in caplog.text
