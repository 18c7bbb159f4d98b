"""The agents' page in Debian's Chromium (Playwright) against `guichet serve` on 127.0.0.1.

The LLM is the scripted OpenAI-compatible server of tests/fixtures/generation.py.
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.models import AuditEvent, Feedback
from tests.fixtures.api import make_key, server_env
from tests.fixtures.web import ARTIFACTS, chromium

pytestmark = pytest.mark.browser

MESSAGE = (
    "Bonjour,\nQuel justificatif de domicile dois-je fournir pour la carte d'identité de mon fils mineur ?\n"
    "Cordialement,\nJeanne Martin"
)
# The scripted LLM: one sentence grounded in the passages, one with a figure none of them has.
LLM_ANSWER = (
    "Pour un mineur, il faut fournir un justificatif de domicile d'un des parents [1].\n"
    "Le délai d'obtention de la carte est de 99 jours [1]."
)


@pytest.fixture
def browser_page():
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield context, page
        context.close()


@pytest.fixture
def web_server(api_settings, api_index_dir, openai_server, live_server_factory):
    env = server_env(api_settings, api_index_dir, GUICHET_LLM_BASE_URL=openai_server.base_url,
                     GUICHET_LLM_MODEL="scripted")
    openai_server.script(LLM_ANSWER)
    key = make_key(api_settings, "agent", "Agent Test")
    return live_server_factory(env), key


def _sign_in(page, url: str, key: str) -> None:
    page.goto(url)
    page.get_by_label("Clé d'accès").fill(key)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#workspace").wait_for(state="visible")


def _draft(page, mode: str) -> None:
    page.get_by_label("Collez le message reçu").fill(MESSAGE)
    page.locator("#mode").select_option(mode)
    page.get_by_role("button", name="Rédiger le brouillon").click()
    page.locator("#draft-view .sentence").first.wait_for()


def _audit_actions(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    engine.dispose()
    return actions


def test_agent_drafts_checks_sources_edits_copies_and_gives_feedback(browser_page, web_server, api_settings):
    from playwright.sync_api import expect

    context, page = browser_page
    server, key = web_server
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, server.url, key)
    assert "Agent Test" in page.locator("#who").inner_text()

    # Extractive draft: every [n] is a chip; a supported sentence's chip shows its highlighted span.
    _draft(page, "extractive")
    chips = page.locator("#draft-view .chip")
    assert chips.count() >= 1
    page.locator('#draft-view .sentence[data-verdict="supported"] .chip').first.click()
    detail = page.locator("#source-detail")
    assert detail.locator("h3").inner_text().startswith("[")
    assert detail.locator("mark").count() >= 1 and detail.locator("mark").first.inner_text().strip()
    assert "mise à jour le" in detail.inner_text()
    assert detail.get_by_role("link", name="Voir la fiche sur service-public.fr").get_attribute("href") \
        .startswith("https://www.service-public.fr/")
    assert page.locator("#source-list li").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "web-draft-extractive.png"), full_page=True)

    # LLM draft (streamed): the sentence with a figure absent from the passages is flagged.
    _draft(page, "llm")
    flagged = page.locator("#draft-view .sentence.flagged", has_text="99 jours")
    flagged.first.wait_for()
    assert flagged.first.get_attribute("title").startswith("À vérifier")
    assert "à vérifier" in page.locator("#flag-summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "web-draft-flagged.png"), full_page=True)

    # Edit in place, copy, feedback in two clicks (+ a reason).
    page.get_by_role("button", name="Modifier le texte").click()
    editor = page.get_by_label("Texte du brouillon à modifier")
    editor.fill(editor.input_value().replace("99 jours", "quelques semaines"))
    page.get_by_role("button", name="Copier").click()
    page.get_by_text("Brouillon copié").wait_for()
    assert "quelques semaines" in page.evaluate("navigator.clipboard.readText()")
    page.get_by_role("button", name="Non, brouillon à revoir").click()
    page.get_by_label("Faits erronés").check()
    page.get_by_role("button", name="Envoyer l'avis").click()
    page.get_by_text("votre avis est enregistré").wait_for()

    # Search the fiches and add one as a source.
    before = page.locator("#source-list li").count()
    page.get_by_label("Question ou mots-clés").fill("photo d'identité")
    page.get_by_role("button", name="Chercher", exact=True).click()
    page.locator("#search-results li").first.wait_for()
    page.locator("#search-results li button").first.click()
    assert page.locator("#source-list li").count() == before + 1
    page.screenshot(path=str(ARTIFACTS / "web-source-added.png"), full_page=True)
    # A question in another language is searched, and the agent is told.
    page.get_by_label("Question ou mots-clés").fill("How do I renew my passport photo?")
    page.get_by_role("button", name="Chercher", exact=True).click()
    expect(page.locator("#status")).to_contain_text("La question semble rédigée en anglais")

    engine = create_engine(api_settings.database_url)
    with Session(engine) as session:
        feedback = session.scalars(select(Feedback)).one()
    engine.dispose()
    assert feedback.rating == "down" and feedback.reasons == ["faits_erronés"]
    assert "quelques semaines" in feedback.final_text
    actions = _audit_actions(api_settings.database_url)
    assert actions.count("drafted") == 2
    assert {"edited", "copied", "feedback", "source_added"} <= set(actions)
    assert not errors, errors


def test_markup_in_a_message_or_a_draft_is_shown_as_text_and_never_runs(browser_page, web_server, openai_server):
    context, page = browser_page
    server, key = web_server
    # A prompt-injected LLM writes markup back; the page must show it as text.
    openai_server.script("Le justificatif de domicile <script>alert('llm')</script> est demandé "
                         "<img src=x onerror=\"alert('img');console.log('pwned')\"> [1].")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    _sign_in(page, server.url, key)
    hostile = ("Quel justificatif de domicile pour un mineur ? <script>alert('message')</script> "
               "<img src=x onerror=\"alert('img2');console.log('pwned')\">")
    page.get_by_label("Collez le message reçu").fill(hostile)
    page.locator("#mode").select_option("llm")
    page.get_by_role("button", name="Rédiger le brouillon").click()
    page.locator("#draft-view .sentence").first.wait_for()
    page.wait_for_timeout(500)
    view = page.locator("#draft-view")
    assert page.locator("#workspace img, #workspace script").count() == 0
    text = view.inner_text()
    assert "<script>alert('llm')</script>" in text and "<img src=x onerror=" in text, text
    assert page.get_by_label("Collez le message reçu").input_value() == hostile
    page.screenshot(path=str(ARTIFACTS / "web-hostile-message.png"), full_page=True)
    assert dialogs == [] and not any("pwned" in line for line in console)
