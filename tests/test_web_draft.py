"""The draft and its sources on the agents' page, in Debian's Chromium (Playwright).

Against a real `guichet serve` (extractive drafts on the real test index); the cases a
real server cannot be made to produce on demand (an abstention, flagged sentences, a
passage with every Markdown construct and hostile markup) are crafted drafts served
to the page with Playwright's page.route, still from the real server's page, under its
Content-Security-Policy. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api.settings import ApiSettings
from tests.fixtures.api import LiveServer, free_port, make_key, server_env
from tests.fixtures.web import ARTIFACTS
from tests.test_web import MESSAGE

pytestmark = pytest.mark.browser
SUPPORTED = "Toutes les phrases sont appuyées par un passage cité."
ABSTAINED = "Aucune fiche ne répond avec certitude : le brouillon le dit à l'usager."


# --- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def draft_server(tmp_path_factory, api_index_dir):
    """One real `guichet serve` for the module (extractive drafts, no LLM)."""
    tmp = tmp_path_factory.mktemp("web-draft")
    settings = ApiSettings(database_url=f"sqlite:///{tmp / 'guichet.db'}", rate_limit_per_minute=10_000,
                           max_body_bytes=64 * 1024, max_message_chars=5_000,
                           reindex_source=str(tmp / "no-such-source"))
    key = make_key(settings, "agent", "Agent Test")
    port = free_port()
    server = LiveServer(server_env(settings, api_index_dir), port, tmp / "server.log").start()
    yield server, key
    server.stop()


@pytest.fixture
def page(browser, draft_server):
    server, key = draft_server
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    # A Content-Security-Policy violation or a missing file shows as a console error.
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.goto(server.url)
    page.get_by_label("Clé d'accès").fill(key)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#workspace").wait_for(state="visible")
    yield page
    assert not page.errors, page.errors
    context.close()


# --- helpers -------------------------------------------------------------------------

def request_draft(page, fmt: str = "email", message: str = MESSAGE) -> dict:
    """Drafts `message` from the page; the draft JSON the page received."""
    page.get_by_label("Collez le message reçu").fill(message)
    page.locator("#format").select_option(fmt)
    page.locator("#mode").select_option("extractive")
    with page.expect_response(lambda r: r.url.endswith("/api/drafts") and r.request.method == "POST") as info:
        page.get_by_role("button", name="Rédiger le brouillon").click()
    page.locator("#draft-view .sentence").first.wait_for()
    return info.value.json()


def serve_drafts(page, *drafts: dict) -> None:
    """POST /api/drafts answers these drafts in turn; their events and feedback are accepted."""
    queue = list(drafts)

    def answer(route):
        if route.request.method != "POST":
            return route.continue_()
        draft = queue.pop(0) if len(queue) > 1 else queue[0]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(draft, ensure_ascii=False))

    page.route("**/api/drafts", answer)
    page.route("**/api/drafts/*/events",
               lambda route: route.fulfill(status=200, content_type="application/json", body="{}"))


def marks(page) -> list[str]:
    return page.eval_on_selector_all("#source-detail mark", "nodes => nodes.map(n => n.textContent)")


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def shown(markdown: str) -> str:
    """A span of passage Markdown as the page shows it: the syntax (#, >, list markers,
    table pipes and rules, **, _emphasis_) taken out."""
    lines = []
    for line in markdown.split("\n"):
        line = re.sub(r"^\s*(?:>\s?)+", "", line)
        if line.strip() and set(line.strip()) <= set("|-: "):
            continue  # a table's rule
        line = re.sub(r"^\s*#{1,6}\s+", "", line)
        line = re.sub(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", "", line)
        lines.append(line)
    text = re.sub(r"(?<!\w)_(\S[^_]*?)_(?!\w)", r"\1", " ".join(lines)).replace("**", "")
    text = text.replace("\\|", "\0").replace("|", " ").replace("\0", "|")
    return " ".join(text.split())


def expected_summary(draft: dict) -> str:
    flagged = sum(s["verdict"] not in ("supported", "not_a_claim") for s in draft["sentences"])
    claims = sum(s["verdict"] != "not_a_claim" for s in draft["sentences"])
    to_check = f"{flagged} phrase{'s' if flagged > 1 else ''} à vérifier"
    if draft["abstained"]:
        return ABSTAINED
    if flagged:
        return to_check
    return SUPPORTED if claims else "aucune affirmation"


def sentence(text: str, part: str, verdict: str = "supported", support=(), reason: str = "") -> dict:
    start = text.index(part)
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", part)]
    return {"text": part, "start": start, "end": start + len(part), "citations": cited, "verdict": verdict,
            "score": 0.9 if verdict == "supported" else 0.1, "reason": reason,
            "support": [{"citation": c, "start": s, "end": e} for c, s, e in support],
            "unsupported_numbers": []}


def span(passage: str, part: str, citation: int = 1) -> tuple[int, int, int]:
    start = passage.index(part)
    return citation, start, start + len(part)


# A passage with every construct the fiches use, and markup that must stay text.
PASSAGE = (
    "Fiche de test > Pièces à fournir\n\n"
    "# Pièces à fournir\n\n"
    "Un paragraphe avec **des mots en gras** et _une emphase_ ; "
    "<script>window.__pwned = 'script'</script> <img src=x onerror=\"window.__pwned = 'img'\"> fin.\n\n"
    "- Premier point de la liste\n"
    "- Second point avec [un lien](https://www.service-public.fr/particuliers/vosdroits/F1234)\n"
    "  suite du second point\n"
    "  - Sous-point imbriqué\n\n"
    "1. Étape une\n"
    "2. Étape deux\n\n"
    "**Délais**\n\n"
    "| Pièce | Délai |\n"
    "| --- | --- |\n"
    "| Carte d'identité | 2 \\| 3 semaines |\n"
    "| Passeport | 4 semaines |\n\n"
    "> **À noter** : un encadré avec **une mise en garde**.\n\n"
    "Un [lien piégé](javascript:alert(1)) et un autre https://www.legifrance.gouv.fr/codes/id/LEGISCTA000006117683/."
)
SOURCE = {
    "numbers": [1], "fiche_id": "F0001", "title": "Fiche de test", "sections": ["Pièces à fournir"],
    "date": "2020-08-01", "url": "https://www.service-public.fr/particuliers/vosdroits/F0001",
    "legal_references": [
        {"label": "Code civil : articles 102 à 111",
         "url": "https://www.legifrance.gouv.fr/codes/id/LEGISCTA000006117683/",
         "legifrance_id": "LEGISCTA000006117683"},
        {"label": "Décret n°55-1397 : article 2",
         "url": "https://www.legifrance.gouv.fr/loda/article_lc/LEGIARTI000035977535",
         "legifrance_id": "LEGIARTI000035977535"},
        {"label": "Arrêté du 10 avril 2007", "url": "https://www.legifrance.gouv.fr/loda/id/LEGITEXT000006056182/",
         "legifrance_id": "LEGITEXT000006056182"},
    ],
}
CITATION = {
    "number": 1, "score": 1.0, "rank": 1, "id": "F0001#0", "fiche_id": "F0001", "index": 0, "text": PASSAGE,
    "breadcrumb": ["Fiche de test", "Pièces à fournir"], "title": "Fiche de test", "url": SOURCE["url"],
    "date": "2020-08-01", "type": "Fiche Question-réponse", "audiences": ["particuliers"], "themes": [],
    "words": 80,
}
SOURCES_BLOCK = (
    "Sources :\n[1] Fiche de test — Pièces à fournir (mis à jour le 1er août 2020)\n"
    "    https://www.service-public.fr/particuliers/vosdroits/F0001\n"
    "    Références juridiques (Légifrance) :\n"
    "    - Code civil : articles 102 à 111 : https://www.legifrance.gouv.fr/codes/id/LEGISCTA000006117683/"
)


def crafted_draft(fmt: str = "email") -> dict:
    """A draft citing PASSAGE, each sentence supported by a span that crosses other syntax."""
    body = ("Un paragraphe avec des mots en gras [1]. Le second point a une suite [1]. "
            "Le délai est de 2 à 3 semaines [1]. Un encadré met en garde [1]. "
            "Voir https://www.service-public.fr/particuliers/vosdroits/F0001.")
    text = f"Madame, Monsieur,\n\n{body}\n\nCordialement,\n\n{SOURCES_BLOCK}" if fmt == "email" else body
    sentences = [
        sentence(text, "Un paragraphe avec des mots en gras [1].",
                 support=[span(PASSAGE, "Un paragraphe avec **des mots en gras** et _une emphase_")]),
        sentence(text, "Le second point a une suite [1].",
                 support=[span(PASSAGE, "point avec [un lien](https://www.service-public.fr/particuliers/"
                                        "vosdroits/F1234)\n  suite du second")]),
        sentence(text, "Le délai est de 2 à 3 semaines [1].",
                 support=[span(PASSAGE, "Carte d'identité | 2 \\| 3 semaines")]),
        sentence(text, "Un encadré met en garde [1].",
                 support=[span(PASSAGE, "un encadré avec **une mise en garde**.")]),
        sentence(text, "Voir https://www.service-public.fr/particuliers/vosdroits/F0001.", verdict="not_a_claim"),
    ]
    if fmt == "email":
        sentences = [sentence(text, "Madame, Monsieur,", verdict="not_a_claim"), *sentences,
                     sentence(text, "Cordialement,", verdict="not_a_claim")]
    return {"id": "crafted-1", "text": text, "mode": "extractive", "format": fmt, "questions": ["?"],
            "sentences": sentences, "citations": [CITATION], "sources": [SOURCE], "abstained": False,
            "confidence": 0.9, "notices": [], "timings_ms": {}}


# --- against the real server -----------------------------------------------------------

def test_real_draft_renders_passages_as_markdown_and_marks_the_support_span(page):
    draft = request_draft(page, "email")
    assert page.locator("#flag-summary").inner_text().startswith(expected_summary(draft))
    citations = {c["number"]: c for c in draft["citations"]}
    checked = 0
    for index, item in enumerate(sorted(draft["sentences"], key=lambda s: s["start"])):
        for support in item["support"]:
            number = support["citation"]
            page.locator(f'#draft-view .sentence[data-index="{index}"] .chip[data-n="{number}"]').first.click()
            citation = citations[support["citation"]]
            source = citation["text"][support["start"]:support["end"]]
            got = marks(page)
            assert got, (index, support)
            # Exactly the span's words are marked, the Markdown syntax aside.
            assert tokens(" ".join(got)) == tokens(shown(source)), (got, source)
            if not re.search(r"[*#>|\n]", source):
                assert "".join(got) == source
            passage = page.locator("#source-detail .passage")
            shown_text = passage.inner_text()
            assert "**" not in shown_text and not re.search(r"^#+ ", shown_text, re.M), shown_text
            if "\n# " in citation["text"] or "\n## " in citation["text"]:
                assert passage.locator(".md-h").count() >= 1
            if "\n- " in citation["text"]:
                assert passage.locator("ul.md-list > li").count() >= 1
            if "\n| " in citation["text"]:
                assert passage.locator(".md-table th").count() >= 1
            checked += 1
    assert checked >= 1
    page.screenshot(path=str(ARTIFACTS / "web-real-passage.png"), full_page=True)

    # The draft's URLs are links; the sources block is one line per fiche, references folded.
    links = page.locator("#draft-view a")
    assert links.count() >= 1
    for k in range(links.count()):
        assert re.match(r"https?://", links.nth(k).get_attribute("href"))  # some Légifrance URLs are http
        assert links.nth(k).get_attribute("rel") == "noopener noreferrer"
    assert page.locator('#draft-view a[href^="https://www.service-public.fr/"]').count() >= 1
    items = page.locator("#source-list > li")
    assert items.count() == len(draft["sources"])
    for k, source in enumerate(draft["sources"]):
        item = items.nth(k)
        assert item.get_by_role("link", name=source["title"]).get_attribute("href") == source["url"]
        if source["legal_references"]:
            summary = item.locator("details > summary")
            assert summary.inner_text() == f"Références juridiques ({len(source['legal_references'])})"
            assert not item.locator("details .legal a").first.is_visible()
            summary.click()
            assert item.locator("details .legal a").first.is_visible()


RENDER_MARKS = """([text, spans]) => spans.map(([start, end]) => {
  const box = document.createElement("div");
  box.append(GuichetMarkdown.render(text, { marks: [{ start, end }] }));
  if (box.querySelector("script, img, [onerror]")) return null;
  return [...box.querySelectorAll("mark")].map((m) => m.textContent).join(" ");
})"""


def test_every_line_of_real_passages_maps_to_its_marked_words(page, draft_server):
    """The renderer's offsets on the real fiches' Markdown: marking any line, or two
    lines together, marks the words of that source and nothing else."""
    server, key = draft_server
    texts = {}
    for question in ("justificatif de domicile mineur", "photo d'identité normes", "timbre fiscal passeport",
                     "congés payés", "nationalité française preuve"):
        response = page.request.get(f"{server.url}/api/search", params={"question": question, "k": "10"},
                                    headers={"Authorization": f"Bearer {key}"})
        assert response.ok, response.text()
        for passage in response.json()["passages"]:
            texts[passage["id"]] = passage["text"]
    assert len(texts) >= 5
    checked = 0
    for text in texts.values():
        starts = [m.end() for m in re.finditer(r"^[ \t]*(?=\S)", text, re.M)]
        lines = [(s, text.find("\n", s) if "\n" in text[s:] else len(text)) for s in starts]
        lines = [(s, e) for s, e in lines if not set(text[s:e].strip()) <= set("|-: ")]
        spans = lines + [(a[0], b[1]) for a, b in zip(lines, lines[1:])]
        got = page.evaluate(RENDER_MARKS, [text, spans])
        for (start, end), marked in zip(spans, got):
            assert marked is not None
            assert tokens(marked) == tokens(shown(text[start:end])), (text[start:end], marked)
            checked += 1
    assert checked >= 50, checked
    print(f"{checked} spans checked in {len(texts)} passages")


def test_real_short_draft_keeps_the_sources_panel_and_copies_the_text(page):
    draft = request_draft(page, "short")
    assert draft["format"] == "short" and draft["sources"]
    assert page.locator("#source-list > li").count() == len(draft["sources"])
    # Whether the server still writes "Sources :" into the short text or not, the view
    # shows it compact only when it is in the text, and "Copier" copies the text itself.
    has_block = "\nSources :\n" in draft["text"] or draft["text"].startswith("Sources :\n")
    assert page.locator("#draft-view .draft-sources").count() == (1 if has_block else 0)
    page.get_by_role("button", name="Copier").click()
    page.get_by_text("Brouillon copié").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == draft["text"]


def test_favicon_thumbs_and_narrow_layout(page, draft_server):
    server, _key = draft_server
    response = page.request.get(f"{server.url}/favicon.ico")
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert page.request.get(f"{server.url}/favicon.svg").status == 200
    assert page.locator('link[rel="icon"]').get_attribute("href") == "favicon.svg"
    page.set_viewport_size({"width": 420, "height": 900})
    request_draft(page, "email")
    # The thumbs are drawn (inline SVG), not emoji that Debian's fonts lack.
    for name in ("Oui, brouillon utile", "Non, brouillon à revoir"):
        button = page.get_by_role("button", name=name)
        assert button.locator("svg").count() == 1 and button.locator("svg").is_visible()
        assert not re.search(r"[\U0001F300-\U0001FAFF]", button.inner_text())
    sources = page.locator("aside.right").bounding_box()
    search = page.locator("section.search").bounding_box()
    draft = page.locator("#draft-section").bounding_box()
    assert draft["y"] < sources["y"] < search["y"], (draft, sources, search)
    assert sources["x"] + sources["width"] <= 420 + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    page.screenshot(path=str(ARTIFACTS / "web-narrow-420.png"), full_page=True)


def test_errors_are_said_in_french_with_the_field_named_in_french(page, browser, draft_server):
    server, _key = draft_server
    page.get_by_label("Collez le message reçu").fill("Bonjour, " + "a" * 5_100)
    page.get_by_role("button", name="Rédiger le brouillon").click()
    error = page.locator("#error")
    error.get_by_text("Demande invalide").wait_for()
    # The real server's 422: the field and the figures in French, none of the API's English.
    assert error.inner_text().replace("\u202f", " ") == (
        "Demande invalide : le message compte 5 109 caractères, au-delà de la limite de 5 000.")
    page.errors[:] = [e for e in page.errors if "status of 422" not in e]

    context = browser.new_context(locale="fr-FR")
    other = context.new_page()
    other.goto(server.url)
    other.get_by_label("Clé d'accès").fill("gch_revoked-or-never-issued-key-000000")
    other.get_by_role("button", name="Se connecter").click()
    other.locator("#error").get_by_text("Clé refusée").wait_for()
    assert other.locator("#error").inner_text() == "Clé refusée : cette clé est inconnue ou a été révoquée."
    context.close()


# --- crafted drafts --------------------------------------------------------------------

def test_passage_markdown_is_rendered_as_safe_html(page):
    serve_drafts(page, crafted_draft())
    request_draft(page)
    page.locator("#draft-view .sentence").nth(1).locator(".chip").click()
    passage = page.locator("#source-detail .passage")
    assert passage.locator("h4").inner_text() == "Pièces à fournir"
    assert passage.locator("strong", has_text="des mots en gras").count() == 1
    assert passage.locator("em").inner_text() == "une emphase"
    assert passage.locator(":scope > ul.md-list > li").count() == 2
    assert passage.locator("ul.md-list ul > li").inner_text() == "Sous-point imbriqué"
    assert passage.locator("ol > li").all_inner_texts() == ["Étape une", "Étape deux"]
    assert passage.locator("table th").all_inner_texts() == ["Pièce", "Délai"]
    assert passage.locator("table td").nth(1).inner_text() == "2 | 3 semaines"
    assert "À noter" in passage.locator("blockquote.md-callout strong").first.inner_text()
    link = passage.get_by_role("link", name="un lien")
    assert link.get_attribute("href") == "https://www.service-public.fr/particuliers/vosdroits/F1234"
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    bare = passage.locator('a[href^="https://www.legifrance.gouv.fr/"]')
    assert bare.get_attribute("href") == "https://www.legifrance.gouv.fr/codes/id/LEGISCTA000006117683/"
    # Only http(s) links; markup stays text and never runs.
    hrefs = passage.locator("a").evaluate_all("nodes => nodes.map(n => n.getAttribute('href'))")
    assert all(h.startswith("https://") for h in hrefs), hrefs
    assert "Un lien piégé et un autre" in passage.inner_text()
    assert page.locator("#workspace script, #workspace img").count() == 0
    text = passage.inner_text()
    assert "<script>window.__pwned = 'script'</script>" in text and "<img src=x onerror=" in text
    assert "**" not in text and "# " not in text and "| ---" not in text
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(ARTIFACTS / "web-crafted-passage.png"), full_page=True)


def test_the_mark_holds_exactly_the_support_span(page):
    draft = crafted_draft()
    serve_drafts(page, draft)
    request_draft(page)
    expected = {
        1: ["Un paragraphe avec ", "des mots en gras", " et ", "une emphase"],
        2: ["point avec ", "un lien", "suite du second"],
        3: ["Carte d'identité", "2 | 3 semaines"],
        4: ["un encadré avec ", "une mise en garde", "."],
    }
    for index, parts in expected.items():
        item = draft["sentences"][index]
        page.locator(f'#draft-view .sentence[data-index="{index}"] .chip').click()
        got = marks(page)
        assert got == parts, (index, got)
        support = item["support"][0]
        assert tokens(" ".join(got)) == tokens(shown(PASSAGE[support["start"]:support["end"]].replace(
            "[un lien](https://www.service-public.fr/particuliers/vosdroits/F1234)", "un lien")))
    # A span that starts and ends inside words marks those characters only.
    start = PASSAGE.index("agraphe avec **des")
    draft["sentences"][1]["support"] = [{"citation": 1, "start": start, "end": start + len("agraphe avec **des mo")}]
    page.unroute("**/api/drafts")
    serve_drafts(page, draft)
    request_draft(page)
    page.locator('#draft-view .sentence[data-index="1"] .chip').click()
    assert marks(page) == ["agraphe avec ", "des mo"]
    assert page.locator("#source-detail strong").first.inner_text() == "des mots en gras"


def test_draft_links_are_clickable_and_the_copy_is_plain_text(page):
    draft = crafted_draft("email")
    serve_drafts(page, draft)
    request_draft(page)
    view = page.locator("#draft-view")
    link = view.locator(".sentence a", has_text="F0001").first
    assert link.get_attribute("href") == "https://www.service-public.fr/particuliers/vosdroits/F0001"
    assert link.inner_text() == "https://www.service-public.fr/particuliers/vosdroits/F0001"  # the final "." left out
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    # The sources block is compact: one line per fiche, the legal references folded.
    block = view.locator(".draft-sources")
    assert block.locator("li.source").count() == 1
    line = block.locator(".source-line").inner_text()
    assert "Fiche de test" in line and "Pièces à fournir" in line and "mis à jour le 1er août 2020" in line
    assert block.locator("summary").inner_text() == "Références juridiques (3)"
    assert not block.locator(".legal a").first.is_visible()
    page.get_by_role("button", name="Copier").click()
    page.get_by_text("Brouillon copié").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == draft["text"]
    # Edited in place, the text copied is the edited text.
    page.get_by_role("button", name="Modifier le texte").click()
    editor = page.get_by_label("Texte du brouillon à modifier")
    assert editor.input_value() == draft["text"]
    editor.fill(draft["text"].replace("Madame, Monsieur,", "Madame,"))
    page.get_by_role("button", name="Copier").click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("Madame,\n\n")

    short = crafted_draft("short")
    page.unroute("**/api/drafts")
    serve_drafts(page, short)
    request_draft(page, "short")
    assert view.locator(".draft-sources").count() == 0
    assert page.locator("#source-list > li").count() == 1
    assert page.locator("#source-list summary").inner_text() == "Références juridiques (3)"
    page.get_by_role("button", name="Copier").click()
    assert page.evaluate("navigator.clipboard.readText()") == short["text"]


ABSTENTION_TEXT = (
    "Madame, Monsieur,\n\nLes fiches de service-public.fr dont nous disposons ne permettent pas de répondre "
    "avec certitude à votre question.\n\nLes fiches les plus proches de votre demande sont :\n"
    "- Passeport : comment acheter un timbre fiscal ? : https://www.service-public.fr/particuliers/vosdroits/F21258\n\n"
    "Nous restons à votre disposition pour tout renseignement complémentaire.\n\nCordialement,"
)


def abstention_draft() -> dict:
    text = ABSTENTION_TEXT
    parts = ["Madame, Monsieur,", "Les fiches de service-public.fr dont nous disposons ne permettent pas de répondre "
             "avec certitude à votre question.", "Les fiches les plus proches de votre demande sont :",
             "- Passeport : comment acheter un timbre fiscal ? : "
             "https://www.service-public.fr/particuliers/vosdroits/F21258",
             "Nous restons à votre disposition pour tout renseignement complémentaire.", "Cordialement,"]
    return {"id": "crafted-abstention", "text": text, "mode": "extractive", "format": "email", "questions": ["?"],
            "sentences": [sentence(text, p, verdict="not_a_claim") for p in parts], "citations": [], "sources": [],
            "abstained": True, "confidence": 0.1, "notices": [], "timings_ms": {}}


def flagged_draft() -> dict:
    draft = crafted_draft("short")
    draft["sentences"][1].update(verdict="weak_support", reason="Appui faible dans les passages cités (score 0.20).")
    draft["sentences"][2].update(verdict="unsupported_number", reason="Chiffre absent des passages cités : 3.")
    return draft


@pytest.mark.parametrize("case, expected", [
    ("abstained", ABSTAINED),
    ("flagged", "2 phrases à vérifier (surlignées)."),
    ("supported", SUPPORTED),
])
def test_the_status_line_says_what_happened(page, case, expected):
    draft = {"abstained": abstention_draft, "flagged": flagged_draft, "supported": crafted_draft}[case]()
    serve_drafts(page, draft)
    request_draft(page)
    summary = page.locator("#flag-summary")
    assert summary.inner_text() == expected
    assert page.locator("#draft-view .sentence.flagged").count() == (2 if case == "flagged" else 0)
    if case == "abstained":
        assert SUPPORTED not in page.locator("#draft-section").inner_text()
        assert page.locator("#source-none").is_visible()
        link = page.locator("#draft-view a")
        assert link.get_attribute("href") == "https://www.service-public.fr/particuliers/vosdroits/F21258"
        page.screenshot(path=str(ARTIFACTS / "web-abstention.png"), full_page=True)


def test_a_flagged_sentence_offers_the_passage_that_does_support_it(page):
    draft = flagged_draft()
    other = {**CITATION, "number": 2, "id": "F0002#0", "fiche_id": "F0002", "title": "Autre fiche",
             "text": "Autre fiche > Délais\n\nLe délai est de 2 à 3 semaines en mairie."}
    draft["citations"] = [CITATION, other]
    draft["sentences"][1].update(verdict="contradicted", suggested_citation=2,
                                 reason="Le passage cité dit « mairie », pas « préfecture ». Appuyé par [2] plutôt que [1].")
    serve_drafts(page, draft)
    request_draft(page)
    note = page.locator("#draft-view .sentence.flagged .flag-note").first
    assert "Appuyé par [2] plutôt que [1]" in note.inner_text()
    note.locator(".chip[data-n='2']").click()
    detail = page.locator("#source-detail")
    assert detail.locator("h3").inner_text() == "[2] Autre fiche"
    assert "en mairie" in detail.inner_text()


# --- what was understood: the needs, corrected and drafted again ----------------------

TWO_QUESTIONS = (
    "Bonjour,\nJe suis locataire d'un appartement à Lyon depuis 2019. Mon propriétaire veut augmenter le loyer. "
    "Comment se fait la révision du loyer en cours de bail ?\n"
    "Par ailleurs, mon fils mineur a perdu sa carte d'identité. "
    "Quel justificatif de domicile dois-je fournir pour la refaire ?\n"
    "Cordialement,\nJeanne Martin"
)
EDITED_QUESTION = "Comment acheter un timbre fiscal pour le passeport de mon fils ?"
# Records every value #needs-button's `disabled` takes, to see it disabled while a draft runs.
WATCH_BUTTON = """() => {
  window.__needsButton = [];
  const button = document.getElementById("needs-button");
  new MutationObserver(() => window.__needsButton.push(button.disabled))
    .observe(button, { attributes: true, attributeFilter: ["disabled"] });
}"""


def draft_requests(page) -> list[dict]:
    """The JSON bodies of the POST /api/drafts the page sends from now on."""
    bodies: list[dict] = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/api/drafts")
            and bodies.append(json.loads(r.post_data)))
    return bodies


def need_fields(page) -> list[tuple[str, str]]:
    """The panel's (question, situation) fields, as shown."""
    return [tuple(pair) for pair in page.eval_on_selector_all("#needs-list .need", """items => items.map(item => [
      item.querySelector(".need-question").value, item.querySelector(".need-situation").value])""")]


def redraft(page) -> dict:
    """Presses "Rédiger à nouveau avec ces questions"; the draft JSON the page received."""
    page.evaluate(WATCH_BUTTON)
    with page.expect_response(lambda r: r.url.endswith("/api/drafts") and r.request.method == "POST") as info:
        page.get_by_role("button", name="Rédiger à nouveau avec ces questions").click()
    draft = info.value.json()
    page.wait_for_function("() => !document.getElementById('needs-button').disabled")
    assert page.evaluate("window.__needsButton")[:1] == [True], "the button stays enabled while drafting"
    return draft


def test_the_needs_panel_lists_each_question_with_its_situation(page):
    panel = page.locator("#needs-form")
    assert not panel.is_visible()  # no draft yet
    draft = request_draft(page, "email", TWO_QUESTIONS)
    assert len(draft["needs"]) == 2, draft["needs"]
    panel.wait_for(state="visible")
    assert panel.get_by_role("heading", name="Ce que nous avons compris").is_visible()
    assert page.get_by_role("form", name="Ce que nous avons compris").count() == 1
    for n, need in enumerate(draft["needs"], start=1):
        assert need["situation"], need
        # Labels tied to their fields: the page is used by name, as a screen reader would.
        assert page.get_by_label(f"Question {n}", exact=True).input_value() == need["question"]
        situation = page.get_by_label(f"Situation prise en compte (question {n})")
        assert situation.input_value() == "\n".join(need["situation"])
        assert page.get_by_role("button", name=f"Retirer la question {n}").is_enabled()
    assert need_fields(page) == [(n["question"], "\n".join(n["situation"])) for n in draft["needs"]]
    assert "lue automatiquement" in panel.inner_text()
    assert "Jeanne Martin" not in panel.inner_text()
    assert page.get_by_role("button", name="Rédiger à nouveau avec ces questions").is_enabled()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "web-needs-1366.png"), full_page=True)

    page.set_viewport_size({"width": 420, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 420 + 1, box
    panel.screenshot(path=str(ARTIFACTS / "web-needs-420.png"))


def test_an_edited_question_is_sent_and_the_new_draft_comes_back_with_it(page):
    page.get_by_label("Collez le message reçu").fill(TWO_QUESTIONS)
    page.locator("#format").select_option("short")
    page.locator("#audience").select_option("particuliers")
    first = request_draft(page, "short", TWO_QUESTIONS)
    bodies = draft_requests(page)
    button = page.get_by_role("button", name="Rédiger à nouveau avec ces questions")

    # A blank question is refused on the page, in French, and nothing is sent.
    question = page.get_by_label("Question 1", exact=True)
    question.fill("   ")
    button.click()
    assert page.locator("#error").inner_text() == "La question 1 est vide : complétez-la ou retirez-la."
    assert question.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "need-question-1"
    assert bodies == []

    question.fill(EDITED_QUESTION)
    assert question.get_attribute("aria-invalid") is None
    # The message box changed since: the redraft still sends the drafted message.
    page.get_by_label("Collez le message reçu").fill("Un autre message ?")
    situation = page.get_by_label("Situation prise en compte (question 2)")
    situation.fill("Mon fils est mineur.\n\n   \nIl a perdu sa carte d'identité.\n")
    draft = redraft(page)

    (body,) = bodies
    assert body["message"] == TWO_QUESTIONS
    assert (body["format"], body["mode"], body["audience"]) == ("short", "extractive", "particuliers")
    assert body["needs"] == [
        {"question": EDITED_QUESTION, "situation": first["needs"][0]["situation"]},
        {"question": first["needs"][1]["question"],
         "situation": ["Mon fils est mineur.", "Il a perdu sa carte d'identité."]},
    ]
    assert draft["id"] != first["id"] and draft["format"] == "short"
    assert [(n["question"], n["source"]) for n in draft["needs"]] == [
        (EDITED_QUESTION, "agent"), (first["needs"][1]["question"], "agent")]
    # The page shows the new draft, and the panel the needs that came back.
    view = page.locator("#draft-view")
    first_sentence = sorted(draft["sentences"], key=lambda s: s["start"])[0]["text"]
    assert first_sentence.split("[")[0].strip() in view.inner_text()
    assert page.locator("#source-list > li").count() == len(draft["sources"])
    assert need_fields(page) == [(n["question"], "\n".join(n["situation"])) for n in draft["needs"]]
    assert "corrigée par vous" in page.locator("#needs-form").inner_text()
    assert page.locator("#status").inner_text().startswith("Rédigé à nouveau avec vos 2 questions.")
    assert page.locator("#error").inner_text() == ""
    assert page.evaluate("document.activeElement.id") == "draft-title"
    page.screenshot(path=str(ARTIFACTS / "web-needs-redrafted.png"), full_page=True)


def test_a_removed_question_is_not_sent_and_the_last_one_stays(page):
    first = request_draft(page, "email", TWO_QUESTIONS)
    bodies = draft_requests(page)
    # With the keyboard: "Retirer" on question 1, focus moves to the question left.
    page.get_by_role("button", name="Retirer la question 1").focus()
    page.keyboard.press("Enter")
    assert need_fields(page) == [(first["needs"][1]["question"], "\n".join(first["needs"][1]["situation"]))]
    assert page.evaluate("document.activeElement.id") == "need-question-1"
    assert page.get_by_label("Question 1", exact=True).input_value() == first["needs"][1]["question"]
    assert page.get_by_label("Question 2", exact=True).count() == 0
    assert "il reste 1 question" in page.locator("#status").inner_text()
    remove = page.get_by_role("button", name="Retirer la question 1")
    assert remove.is_disabled()

    page.get_by_role("button", name="Rédiger à nouveau avec ces questions").focus()
    page.evaluate(WATCH_BUTTON)
    with page.expect_response(lambda r: r.url.endswith("/api/drafts") and r.request.method == "POST") as info:
        page.keyboard.press("Enter")
    draft = info.value.json()
    page.wait_for_function("() => !document.getElementById('needs-button').disabled")
    assert page.evaluate("window.__needsButton")[:1] == [True]

    (body,) = bodies
    assert body["needs"] == [{"question": first["needs"][1]["question"], "situation": first["needs"][1]["situation"]}]
    assert [n["question"] for n in draft["needs"]] == [first["needs"][1]["question"]]
    assert page.locator("#needs-list .need").count() == 1
    assert page.get_by_role("button", name="Retirer la question 1").is_disabled()
    assert page.locator("#status").inner_text().startswith("Rédigé à nouveau avec votre question.")


def test_the_needs_panel_shows_what_was_understood_for_an_abstention(page):
    # A draft without needs (an older server) has no panel.
    serve_drafts(page, crafted_draft())
    request_draft(page)
    assert not page.locator("#needs-form").is_visible()

    draft = abstention_draft()
    draft["needs"] = [{"question": "Comment obtenir un permis de chasse pour [NOM_1] ?",
                       "situation": ["Il habite à Lyon."], "query": "permis de chasse", "source": "rules",
                       "asked": True}]
    page.unroute("**/api/drafts")
    serve_drafts(page, draft)
    request_draft(page)
    panel = page.locator("#needs-form")
    panel.wait_for(state="visible")
    assert page.get_by_label("Question 1", exact=True).input_value() == draft["needs"][0]["question"]
    assert page.get_by_label("Situation prise en compte (question 1)").input_value() == "Il habite à Lyon."
    assert "Aucune fiche ne répond avec certitude à ces questions" in page.locator("#needs-note").inner_text()
    assert page.get_by_role("button", name="Retirer la question 1").is_disabled()

    # A failed redraft says why in French and keeps the draft and the panel.
    page.unroute("**/api/drafts")
    page.route("**/api/drafts", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body=json.dumps({"error": "unavailable", "detail": "the index is being rebuilt", "reason": "unavailable"})))
    page.get_by_role("button", name="Rédiger à nouveau avec ces questions").click()
    page.locator("#error").get_by_text("Service indisponible : l'index ne répond pas pour le moment.").wait_for()
    assert panel.is_visible() and page.get_by_role("button", name="Rédiger à nouveau avec ces questions").is_enabled()
    assert "ne permettent pas de répondre" in page.locator("#draft-view").inner_text()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "web-needs-abstention.png"), full_page=True)
    # The 503 answered on purpose is logged by the browser; nothing else may be.
    page.errors[:] = [e for e in page.errors if "status of 503" not in e]


# --- the law beside the passage (real excerpts of travail-emploi and legi-data) -------

def law_draft(tmp_path, fiche_date: str) -> dict:
    """crafted_draft citing a real travail-emploi passage with its articles resolved by
    the real article store (tests/data/socialgouv), the fiche dated `fiche_date`."""
    from generation.law import passage_law
    from ingest.chunking import chunk_fiche
    from ingest.legi import ArticleStore, build_article_store
    from ingest.model import Fiche
    from ingest.sources import open_source
    from retrieval.types import Passage

    data = Path(__file__).parent / "data" / "socialgouv"
    build_article_store(data / "legi", tmp_path / "articles.sqlite")
    fiche = next(f for f in open_source(f"travail-emploi:{data / 'fiches-travail.json'}").fiches() if isinstance(f, Fiche))
    fiche.date = fiche_date
    chunk = next(c for c in chunk_fiche(fiche) if c.legal_ids)
    articles, notices = passage_law(Passage(chunk, 1.0, 1), fiche, ArticleStore(tmp_path / "articles.sqlite"))
    draft = crafted_draft("short")
    draft["citations"] = [{**CITATION, **chunk.payload(), "number": 1, "articles": articles, "law_changes": notices}]
    draft["sources"] = [{**SOURCE, "fiche_id": chunk.fiche_id, "title": chunk.title, "source": "travail-emploi",
                         "publisher": "Ministère du Travail", "date": fiche_date}]
    return draft


def test_an_article_of_the_code_is_shown_folded_under_the_cited_passage(page, tmp_path):
    draft = law_draft(tmp_path, "2999-01-01")  # no article changed after it
    article = draft["citations"][0]["articles"][0]
    serve_drafts(page, draft)
    request_draft(page, "short")
    page.locator('#draft-view .chip[data-n="1"]').first.click()
    detail = page.locator("#source-detail")
    assert "Ministère du Travail, fiche mise à jour le 01/01/2999" in detail.inner_text()
    folded = detail.locator("details.law-articles")
    assert folded.locator("summary").first.inner_text().startswith("Articles de loi cités (")
    assert detail.locator(".passage + details.law-articles").count() == 1  # under the passage
    text = folded.locator(".article-text").first
    assert not text.is_visible()
    folded.locator("summary").first.click()
    folded.locator("details.article summary").first.click()
    assert text.is_visible() and text.inner_text() == article["text"]
    assert f"article {article['number']}" in folded.inner_text() and "en vigueur depuis le" in folded.inner_text()
    assert detail.locator(".law-changed").count() == 0
    page.screenshot(path=str(ARTIFACTS / "web-law-article.png"), full_page=True)


def test_an_article_modified_after_the_fiche_is_said_so(page, tmp_path):
    draft = law_draft(tmp_path, "2001-01-01")
    article = draft["citations"][0]["articles"][0]
    serve_drafts(page, draft)
    request_draft(page, "short")
    page.locator('#draft-view .chip[data-n="1"]').first.click()
    notice = page.locator("#source-detail .law-changed").first
    assert notice.inner_text().startswith(f"Attention : article {article['number']} modifié le ")
    assert "après la mise à jour de la fiche du 1er janvier 2001" in notice.inner_text()
    assert "(modifié après la fiche)" in page.locator("#source-detail details.law-articles").text_content()
