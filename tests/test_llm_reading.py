"""Reading e-mails with a language model (a real HTTP server speaking the OpenAI
protocol, scripted): needs checked against the message, rules as the fallback."""

import json

import pytest

from generation.llm import LLMError
from generation.llm_reading import LLMReader, grounded_needs, parse_needs
from generation.service import DraftService
from generation.settings import GenerationSettings, LLMSettings
from generation.types import Need

MESSAGE = (
    "Bonjour,\nMon mari est decede en mars, il travaillait dans le prive. Nous etions maries depuis 30 ans.\n"
    "Est-ce que je peux toucher une partie de sa retraite ? Et la carte d'identite de mon fils mineur est-elle "
    "gratuite ?\nMerci\nJosette Martin\n06 12 34 56 78"
)
ANSWER = {"questions": [
    {"question": "Une veuve peut-elle toucher une partie de la retraite de son mari decede (pension de réversion) ?",
     "situation": ["Mon mari est decede en mars, il travaillait dans le prive.", "Il avait trois enfants d'un premier mariage."]},
    {"question": "La carte d'identite d'un fils mineur est-elle gratuite ?", "situation": []},
    {"question": "Quelle est la capitale de l'Australie ?", "situation": []},
]}


def llm_service(openai_server, **settings):
    return DraftService(None, LLMSettings(base_url=openai_server.base_url, timeout_s=1.0),
                        settings=GenerationSettings(reader="llm", **settings))


def test_the_model_s_needs_are_kept_only_where_the_message_says_so(passage_retriever, openai_server):
    openai_server.script(json.dumps(ANSWER, ensure_ascii=False))
    service = llm_service(openai_server)
    service.retriever = passage_retriever
    needs, _ = service.understand(MESSAGE)
    assert [n.source for n in needs] == ["llm", "llm"]
    assert needs[0].question.startswith("Une veuve peut-elle toucher une partie de la retraite")
    assert needs[0].situation == ["Mon mari est decede en mars, il travaillait dans le prive."]  # no invented fact
    assert needs[1].question == "La carte d'identite d'un fils mineur est-elle gratuite ?"
    sent = openai_server.received_text()
    assert "06 12 34 56 78" not in sent and "Josette" not in sent  # the masked message only


@pytest.mark.parametrize("answer", ["pas du JSON", '{"questions": "aucune"}', '{"questions": [{"question": '
                                    '"Quelle est la capitale de l\'Australie ?"}]}'])
def test_an_unusable_answer_falls_back_to_the_rules_with_a_notice(passage_retriever, openai_server, answer):
    openai_server.script(answer)
    service = llm_service(openai_server)
    service.retriever = passage_retriever
    draft = service.draft(MESSAGE)
    assert [n.source for n in draft.needs] == ["rules", "rules"]
    assert any(n.startswith("Questions relevées par les règles") for n in draft.notices)


def test_a_server_error_falls_back_to_the_rules(passage_retriever, openai_server):
    openai_server.script("{}", mode="http500")
    service = llm_service(openai_server)
    service.retriever = passage_retriever
    needs, _ = service.understand(MESSAGE)
    assert needs and all(n.source == "rules" for n in needs)


def test_the_rules_read_by_default_and_no_request_is_sent(passage_retriever, openai_server):
    service = DraftService(passage_retriever, LLMSettings(base_url=openai_server.base_url))
    needs, _ = service.understand(MESSAGE)
    assert all(n.source == "rules" for n in needs) and openai_server.requests == []


def test_parse_tolerates_text_around_the_json_and_skips_malformed_items():
    needs = parse_needs('Voici : {"questions": [{"question": " Puis-je  partir ? "}, {"situation": []}, 3]} fin')
    assert [n.question for n in needs] == ["Puis-je partir ?"]
    with pytest.raises(LLMError):
        parse_needs("[1, 2]")


def test_grounding_drops_duplicates_and_builds_the_query():
    needs = [Need(question="Puis-je toucher la retraite de mon mari ?", situation=["Mon mari est decede."]),
             Need(question="Puis-je toucher la retraite de mon mari ?")]
    kept = grounded_needs(needs, "Mon mari est decede. Puis-je toucher sa retraite ?")
    assert len(kept) == 1 and kept[0].query == "Puis-je toucher la retraite de mon mari ? Mon mari est decede."


def test_reader_needs_an_endpoint():
    with pytest.raises(ValueError, match="GUICHET_LLM_BASE_URL"):
        LLMReader(LLMSettings())
