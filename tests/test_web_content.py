"""The content team's page (contenu.html) in Debian's Chromium, against a real `guichet serve`.

Real drafts left unanswered make the gaps, real feedback the plot; a real
`guichet ingest` run from the command line and a reindex started from the page's
button are both in the run history. An agent key is refused with the reason in French.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from api.settings import ApiSettings
from tests.fixtures.api import REPO, LiveServer, auth, free_port, make_key, server_env
from tests.fixtures.web import ARTIFACTS
from tests.test_atomic import make_source, sample_files

pytestmark = pytest.mark.browser

LAMA = "Puis-je adopter un lama dans mon appartement ?"
FURET = "Où faire tatouer mon furet albinos ?"
REFUSED = "Action non autorisée : elle demande le rôle « admin » ou « content » ; cette clé a le rôle « agent »."


@pytest.fixture(scope="module")
def content_server(tmp_path_factory, api_index_dir, sample_source_dir):
    tmp = tmp_path_factory.mktemp("web-content")
    settings = ApiSettings(database_url=f"sqlite:///{tmp / 'guichet.db'}", rate_limit_per_minute=10_000,
                           reindex_source=str(tmp / "no-such-source"))
    keys = {role: make_key(settings, role, f"{role} test") for role in ("agent", "content")}
    env = server_env(settings, api_index_dir)
    # A run of `guichet ingest` by hand (another index, the same database): in the history too.
    source = make_source(sample_source_dir, tmp / "source", sample_files(sample_source_dir)[:2])
    subprocess.run([sys.executable, "-m", "api.cli", "ingest", "--source", str(source), "--embedder", "none",
                    "--index-dir", str(tmp / "cli-index")], cwd=REPO, env=env, check=True, capture_output=True)
    server = LiveServer(env, free_port(), tmp / "server.log").start()
    agent = auth(keys["agent"])
    for message in [LAMA, LAMA, f"Bonjour, je suis jeanne.martin@example.org.\n{FURET}",
                    "Xylophone zzz quokka ?"]:
        draft = httpx.post(f"{server.url}/api/drafts", json={"message": message}, headers=agent, timeout=60).json()
        assert draft["abstained"], message
    feedback = {"rating": "down", "reasons": ["sources_manquantes", "imprécis"]}
    assert httpx.post(f"{server.url}/api/drafts/{draft['id']}/feedback", json=feedback, headers=agent).status_code == 201
    yield server, keys
    server.stop()


def open_page(browser, server, key):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.goto(f"{server.url}/contenu.html")
    page.get_by_label("Clé d'accès").fill(key)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#content-workspace").wait_for(state="visible")
    return context, page


def test_content_page_groups_needs_plots_feedback_and_reindexes(browser, content_server):
    server, keys = content_server
    context, page = open_page(browser, server, keys["content"])
    groups = page.locator(".gap-group")
    groups.first.wait_for()
    # The two lama questions (same search, same nearest fiche) are in one group; the
    # furet one is counted too; the noise is no gap.
    assert sum(int(g.get_attribute("data-count")) for g in groups.all()) == 3
    for summary in page.locator(".gap-group summary").all():
        summary.click()
    text = page.locator("#gap-groups").inner_text()
    assert "quokka" not in text.lower() and FURET in text
    assert "jeanne.martin" not in text and "Bonjour, je suis" in text, "messages are shown, masked"
    lama_group = groups.filter(has_text=LAMA)
    assert int(lama_group.get_attribute("data-count")) >= 2 and "(2 fois)" in lama_group.inner_text()
    assert lama_group.locator("ul.nearest a").count() >= 1
    assert lama_group.locator("svg.weekly rect").count() == 8

    # The plot of the feedback reasons: one segment per reason given this week.
    plot = page.locator("#feedback-svg")
    plot.wait_for()
    reasons = {r.get_attribute("data-reason") for r in plot.locator("rect.bar").all()}
    assert reasons == {"sources_manquantes", "imprécis"}
    assert plot.bounding_box()["height"] > 100
    assert "1 « à revoir »" in page.locator("#feedback-caption").inner_text()

    # The run history has the command line's run; the button starts one from the page.
    runs = page.locator("#runs tbody tr")
    assert runs.count() == 1 and runs.first.get_attribute("data-origin") == "cli"
    assert "la ligne de commande" in runs.first.inner_text() and "réussi" in runs.first.inner_text()
    page.get_by_role("button", name="Réindexer la source configurée").click()
    page.locator("#reindex-status").get_by_text("Réindexage n° 2 lancé").wait_for()
    page.locator('#runs tbody tr[data-origin="api"]').wait_for()
    assert runs.count() == 2
    page.screenshot(path=str(ARTIFACTS / "web-content.png"), full_page=True)
    assert not page.errors, page.errors
    context.close()


def test_content_page_refuses_an_agent_key_with_the_reason_in_french(browser, content_server):
    server, keys = content_server
    context, page = open_page(browser, server, keys["agent"])
    for part in ("#gaps-error", "#feedback-error"):
        page.locator(part).get_by_text("Action non autorisée").wait_for()
        assert page.locator(part).inner_text() == REFUSED
    page.locator("#index-status dt").first.wait_for()  # an agent may read the index status
    runs_before = page.locator("#runs tbody tr").count()
    assert runs_before == 2  # the command line's run and the one the content key started
    page.get_by_role("button", name="Réindexer la source configurée").click()
    page.locator("#index-error").get_by_text("Action non autorisée").wait_for()
    assert page.locator("#index-error").inner_text() == REFUSED
    assert page.locator("#runs tbody tr").count() == runs_before
    assert len(httpx.get(f"{server.url}/api/index/status", headers=auth(keys["agent"])).json()["runs"]) == runs_before
    page.errors[:] = [e for e in page.errors if "status of 403" not in e]
    assert not page.errors, page.errors
    context.close()
