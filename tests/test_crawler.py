"""The HTML crawler against a local site of service-public.fr-like pages."""

from __future__ import annotations

from collections import Counter

import pytest

from ingest.model import Failure, Fiche
from ingest.sources import open_source
from ingest.sources.crawl import CrawlSource
from ingest.sources.html_page import parse_fiche_page
from tests.fixtures.sources import Reply, ScriptedServer

PREFIX = "/particuliers/vosdroits/"
ALL_PAGES = ["F1878", "N19804", "N19806", "N31477", "F2214", "F31", "R1234", "R5678", "F35001", "F35002"]


def small_page(title: str, links: list[tuple[str, str]] = ()) -> str:
    """A short fiche page with the same skeleton as the fixture files."""
    anchors = "".join(f'<li><a href="{href}">{label}</a></li>' for href, label in links)
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title} | Service Public</title></head>
<body><header role="banner" class="fr-header"><p class="fr-header__service-title">Service-Public.fr</p></header>
<main role="main" id="main"><div class="fr-container">
<nav role="navigation" class="fr-breadcrumb" aria-label="vous êtes ici :"><ol class="fr-breadcrumb__list">
<li><a class="fr-breadcrumb__link" href="/particuliers/vosdroits">Accueil particuliers</a></li>
<li><a class="fr-breadcrumb__link" aria-current="page">{title}</a></li></ol></nav>
<article class="article"><p class="fr-tag">Fiche pratique</p><h1 class="fr-h1">{title}</h1>
<p class="fr-text--xs">Vérifié le 15 février 2024 - Direction de l'information légale et administrative (Premier ministre)</p>
<div class="sp-chapter"><h2 class="fr-h5">Principe</h2><p>Texte de la fiche « {title} ».</p><ul class="fr-list">{anchors}</ul></div>
</article></div></main><footer class="fr-footer"><a href="/a-propos/mentions-legales">Mentions légales</a></footer></body></html>"""


def html(body: str, **options) -> Reply:
    return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"}, **options)


@pytest.fixture
def other_site():
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(http_server, pages_dir, other_site):
    """F1878 → (nav, breadcrumb, body) N19804 N19806 N31477 F2214 F31 F9999 R1234 R5678;
    F2214 → F35001 → F35002; F31 → off-site links; F9999 is disallowed by robots.txt."""
    server = http_server
    server.route("/robots.txt", Reply(200, (pages_dir / "robots.txt").read_text(), {"Content-Type": "text/plain"}))
    for fiche_id in ("F1878", "F2214"):
        server.route(PREFIX + fiche_id, html((pages_dir / f"{fiche_id}.html").read_text(encoding="utf-8")))
    off_site = [
        (f"http://localhost:{server.url.rsplit(':', 1)[1]}{PREFIX}F777", "Même serveur, autre nom d'hôte"),
        (f"{other_site.url}{PREFIX}F888", "Autre site"),
        (f"{PREFIX}F31#haut", "Haut de page"),
    ]
    pages = {
        "N19804": small_page("Famille - Scolarité"),
        "N19806": small_page("Social - Santé"),
        "N31477": small_page("Allocations familiales"),
        "R1234": small_page("Simulateur ARS"),
        "R5678": small_page("Demande d'allocation de rentrée scolaire"),
        "F31": small_page("Aides aux familles", off_site),
        "F35001": small_page("Les aides de la Caf", [(f"{PREFIX}F35002", "Prime de naissance")]),
        "F35002": small_page("Prime de naissance"),
        "F9999": small_page("Ancienne fiche"),
        "F777": small_page("Hors périmètre"),
    }
    for fiche_id, page in pages.items():
        server.route(PREFIX + fiche_id, html(page))
    return server


def crawl(site, settings, **overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    return CrawlSource(f"{site.url}{PREFIX}F1878", settings)


def page_requests(server) -> list[str]:
    return [r.path.removeprefix(PREFIX) for r in server.requests if r.path.startswith(PREFIX)]


def split(items):
    return {i.id: i for i in items if isinstance(i, Fiche)}, [i for i in items if isinstance(i, Failure)]


def test_crawl_follows_fiche_links_within_the_host_and_robots(site, other_site, ingest_settings):
    fiches, failures = split(list(crawl(site, ingest_settings).fiches()))
    assert failures == []
    assert set(fiches) == set(ALL_PAGES)
    requested = page_requests(site)
    assert sorted(requested) == sorted(ALL_PAGES)  # each page once; no F9999 (robots), no F777 (other host name)
    assert site.requests[0].path == "/robots.txt"
    assert other_site.requests == []
    assert "/a-propos/mentions-legales" not in [r.path for r in site.requests]  # not a fiche page


def test_open_source_spec_crawls(site, ingest_settings):
    source = open_source(f"crawl {site.url}{PREFIX}F1878", ingest_settings)
    fiches, _ = split(list(source.fiches()))
    assert fiches["F1878"].title == "Allocation de rentrée scolaire (ARS)"


def test_depth_bound(site, ingest_settings):
    fiches, _ = split(list(crawl(site, ingest_settings, crawl_max_depth=1).fiches()))
    assert set(fiches) == {"F1878", "N19804", "N19806", "N31477", "F2214", "F31", "R1234", "R5678"}
    assert "F35001" not in page_requests(site)


def test_page_bound(site, ingest_settings):
    fiches, _ = split(list(crawl(site, ingest_settings, crawl_max_pages=3).fiches()))
    assert len(fiches) == 3 and len(page_requests(site)) == 3
    # A bounded crawl is finished: the next run starts again from the start URL.
    list(crawl(site, ingest_settings, crawl_max_pages=1).fiches())
    assert page_requests(site)[-1] == "F1878"


def test_rate_limit_between_requests(site, ingest_settings):
    list(crawl(site, ingest_settings, crawl_max_pages=4, crawl_delay_s=0.25).fiches())
    times = [r.at for r in site.requests]
    assert len(times) == 5  # robots.txt + 4 pages
    # The delay runs from the end of each response, so no two arrivals are closer, however
    # slowly the requests travel.
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.25


def test_robots_crawl_delay_is_honoured(site, pages_dir, ingest_settings):
    robots = (pages_dir / "robots.txt").read_text() + "Crawl-delay: 1\n"
    site.route("/robots.txt", Reply(200, robots, {"Content-Type": "text/plain"}))
    list(crawl(site, ingest_settings, crawl_max_pages=2).fiches())
    first, second = site.requests_to(PREFIX + "F1878")[0], site.requests[-1]
    assert second.at - first.at >= 0.9


def test_resumes_after_an_interruption(site, ingest_settings):
    def interrupt_after_four(event):
        if event.read == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(crawl(site, ingest_settings).fiches(progress=interrupt_after_four))
    assert len(page_requests(site)) == 4

    fiches, failures = split(list(crawl(site, ingest_settings).fiches()))
    assert failures == [] and set(fiches) == set(ALL_PAGES)  # pages of the first run included
    counts = Counter(page_requests(site))
    assert set(counts) == set(ALL_PAGES) and set(counts.values()) == {1}  # nothing fetched twice


def test_a_page_that_times_out_is_a_failure_and_the_crawl_goes_on(site, ingest_settings):
    site.route(PREFIX + "F31", html(small_page("Aides aux familles"), delay_s=3))
    fiches, failures = split(list(crawl(site, ingest_settings, http_timeout_s=0.3, http_retries=0).fiches()))
    assert len(failures) == 1
    assert failures[0].origin == f"{site.url}{PREFIX}F31" and failures[0].fiche_id == "F31"
    assert "timed out after 0.3 s" in failures[0].error
    assert set(fiches) == set(ALL_PAGES) - {"F31"}


def test_missing_page_is_a_failure(site, ingest_settings):
    site.routes.pop(PREFIX + "R1234")
    fiches, failures = split(list(crawl(site, ingest_settings).fiches()))
    assert [(f.fiche_id, "HTTP 404" in f.error) for f in failures] == [("R1234", True)]
    assert "F35002" in fiches


def test_unreachable_robots_txt_stops_the_crawl(site, ingest_settings):
    site.route("/robots.txt", Reply(503, "maintenance"))
    fiches, failures = split(list(crawl(site, ingest_settings).fiches()))
    assert fiches == {} and len(failures) == 1
    assert failures[0].origin.endswith("/robots.txt") and "not crawling" in failures[0].error
    assert page_requests(site) == []


def test_missing_robots_txt_allows_everything(site, ingest_settings):
    site.routes.pop("/robots.txt")
    fiches, _ = split(list(crawl(site, ingest_settings).fiches()))
    assert "F9999" in fiches


def test_fiche_page_is_read_into_the_model(pages_dir):
    url = "https://www.service-public.fr/particuliers/vosdroits/F1878"
    fiche = parse_fiche_page((pages_dir / "F1878.html").read_text(encoding="utf-8"), url)
    assert fiche.id == "F1878" and fiche.url == url and fiche.audiences == ["particuliers"]
    assert fiche.title == "Allocation de rentrée scolaire (ARS)"
    assert fiche.type == "Fiche d'information"
    assert fiche.date == "2024-01-01"
    assert fiche.breadcrumb == [
        "Accueil particuliers", "Social - Santé", "Allocations familiales", "Allocation de rentrée scolaire (ARS)",
    ]  # fmt: skip
    assert fiche.description.startswith("L'allocation de rentrée scolaire (ARS) aide les familles")
    assert [s.path for s in fiche.sections] == [
        [],
        ["Conditions", "Enfant concerné"],
        ["Conditions", "Ressources"],
        ["Démarche", "Cas : Vous êtes allocataire de la Caf"],
        ["Démarche", "Cas : Vous n'êtes pas allocataire"],
        ["Montant"],
    ]
    markdown = fiche.markdown
    assert "## Conditions\n\n### Enfant concerné" in markdown
    assert "| 6 à 10 ans | 416,40 € |" in markdown
    assert "| Montants nets après CRDS | Montants nets après CRDS |" in markdown  # colspan expanded
    assert "1er février 2025" in markdown and "  - soit étudiant ou apprenti," in markdown
    assert "> **À noter** : Si vos ressources" in markdown
    assert "2. Joignez un certificat de scolarité." in markdown
    for absent in ("Vérifié le", "Mentions légales", "Code de la sécurité", "Questions ? Réponses", "Cerfa", "Simulateur"):
        assert absent not in markdown
    assert [(r.legifrance_id, r.label) for r in fiche.legal_references] == [
        ("LEGISCTA000006156013", "Code de la sécurité sociale : articles L543-1 à L543-3"),
        ("LEGIARTI000006750669", "Code de la sécurité sociale : article R543-1"),
    ]
    assert [link.target for link in fiche.internal_links] == ["F2214", "F31", "F9999"]
    assert [link.target for link in fiche.related_questions] == ["F2214"]
    assert [link.target for link in fiche.external_links] == ["https://www.caf.fr/allocataires/mes-services-en-ligne"]
    assert [(s.id, s.kind, s.cerfa) for s in fiche.online_services] == [
        ("R1234", "Simulateur", None),
        ("R5678", "Formulaire", "11111*02"),
    ]
    assert fiche.online_services[1].title == "Demande d'allocation de rentrée scolaire"


def test_question_page_and_non_fiche_pages(pages_dir):
    fiche = parse_fiche_page(
        (pages_dir / "F2214.html").read_bytes(), "https://www.service-public.fr/particuliers/vosdroits/F2214"
    )
    assert fiche.type == "Fiche Question-réponse" and fiche.date == "2024-03-01"
    assert fiche.legal_references[0].legifrance_id == "LEGIARTI000031688371"
    assert fiche.markdown.startswith("Si vos ressources dépassent **légèrement** le plafond")
    assert parse_fiche_page(small_page("Accueil"), "https://www.service-public.fr/particuliers/vosdroits") is None
    assert parse_fiche_page("<html><body><p>Pas de titre</p></body></html>", "https://x.fr/vosdroits/F1") is None
