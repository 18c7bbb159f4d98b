"""The labour-law sources and the article store, on real excerpts of the SocialGouv
packages (tests/data/socialgouv, with malformed entries added)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import cli
from generation.law import passage_law
from ingest.chunking import chunk_fiche
from ingest.legi import ArticleStore, build_article_store, changed_after
from ingest.model import Failure, Fiche, LegalReference
from ingest.sources import open_source
from retrieval.types import Passage

DATA = Path(__file__).parent / "data" / "socialgouv"
TRAVAIL = DATA / "fiches-travail.json"
CONTRIBUTIONS = DATA / "contributions.json"


def read(spec: str) -> tuple[list[Fiche], list[Failure]]:
    items = list(open_source(spec).fiches())
    return [i for i in items if isinstance(i, Fiche)], [i for i in items if isinstance(i, Failure)]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ArticleStore:
    path = tmp_path_factory.mktemp("articles") / "articles.sqlite"
    build_article_store(DATA / "legi", path)
    return ArticleStore(path)


def test_travail_emploi_fiches_with_their_section_references_and_a_clear_error_per_bad_entry():
    fiches, failures = read(f"travail-emploi:{TRAVAIL}")
    assert [f.id for f in fiches] == ["TE-article373034", "TE-article200184"]
    fiche = fiches[0]
    assert fiche.source == "travail-emploi" and fiche.date == "2023-07-13" and fiche.is_content
    assert fiche.url.startswith("https://travail-emploi.gouv.fr/")
    assert any(s.references for s in fiche.sections) and fiche.legal_references
    assert all(r.legifrance_id.startswith("LEGIARTI") for r in fiche.legal_references if r.legifrance_id)
    errors = sorted(f.error for f in failures)
    assert len(errors) == 2
    assert "pubId=article999001" in errors[0] and "missing or empty 'title'" in errors[0]
    assert "pubId=article999002" in errors[1] and "expected DD/MM/YYYY" in errors[1]
    assert {f.fiche_id for f in failures} == {"TE-article999001", "TE-article999002"}
    chunks = [c for f in fiches for c in chunk_fiche(f)]
    assert all(c.source == "travail-emploi" for c in chunks) and any(c.legal_ids for c in chunks)


def test_cdtn_generic_answers_only_and_the_entry_without_one_named():
    fiches, failures = read(f"cdtn:{CONTRIBUTIONS}")
    assert len(fiches) == 2 and all(f.source == "cdtn" and f.id.startswith("CDTN-") for f in fiches)
    assert all("code.travail.gouv.fr/contribution/" in f.url for f in fiches)
    assert [f.error for f in failures] == ["cdtn entry index=99: no generic answer (answers.generic)"]


def test_an_unreadable_package_file_is_one_failure_that_deletes_nothing(tmp_path):
    broken = tmp_path / "fiches-travail.json"
    broken.write_text("[{", encoding="utf-8")
    fiches, failures = read(f"travail-emploi:{broken}")
    assert fiches == [] and len(failures) == 1 and failures[0].fiche_id == ""


def test_references_resolve_to_the_article_in_force_and_say_when_it_changed(store):
    fiches, _ = read(f"travail-emploi:{TRAVAIL}")
    references = [r for f in fiches for r in f.legal_references]
    resolved = [store.resolve(r) for r in references]
    assert resolved and all(r.code_id == "LEGITEXT000006072050" and r.resolved for r in resolved)
    article = resolved[0].articles[0]
    assert article.number.startswith(("L", "R", "D")) and article.text and len(article.start) == 10
    by_label = store.resolve(LegalReference(f"Code du travail : article {article.number}", "https://www.legifrance.gouv.fr/codes/id/LEGITEXT000006072050", "LEGITEXT000006072050"))
    assert [a.cid for a in by_label.articles] == [article.cid]
    assert store.resolve(LegalReference("Code civil : article 9", "https://www.legifrance.gouv.fr/codes/id/LEGITEXT000006070721", "LEGITEXT000006070721")).in_codes is False
    assert changed_after(article, "2000-01-01") and not changed_after(article, "2999-01-01")
    chunk = next(c for c in chunk_fiche(fiches[0]) if c.legal_ids)
    old = Fiche.from_dict({**fiches[0].to_dict(), "date": "2000-01-01"})
    articles, notices = passage_law(Passage(chunk, 1.0, 1), old, store)
    assert articles and all(a["changed_after_fiche"] for a in articles)
    assert notices[0].startswith(f"article {articles[0]['number']} modifié le ")
    assert notices[0].endswith("après la mise à jour de la fiche du 1er janvier 2000")


def test_a_missing_code_file_is_a_clear_error_and_leaves_no_store(tmp_path):
    legi = tmp_path / "legi"
    shutil.copytree(DATA / "legi", legi)
    (legi / "LEGITEXT000031366350.json").unlink()
    with pytest.raises(ValueError, match="LEGITEXT000031366350.json: missing"):
        build_article_store(legi, tmp_path / "articles.sqlite")
    assert not (tmp_path / "articles.sqlite").exists()


def test_one_index_of_several_sources_and_deletions_per_source(tmp_path, sample_source_dir):
    from tests.test_atomic import make_source, sample_files

    service_public = make_source(sample_source_dir, tmp_path / "sp", sample_files(sample_source_dir)[:3])
    index = tmp_path / "index"
    base = ["ingest", "--embedder", "none", "--index-dir", str(index), "--database-url", f"sqlite:///{tmp_path / 'db.sqlite'}", "--json"]
    result = CliRunner().invoke(cli, [*base, "--source", str(service_public), "--source", f"travail-emploi:{TRAVAIL}",
                                       "--source", f"cdtn:{CONTRIBUTIONS}", "--articles", str(DATA / "legi")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["fiches_per_source"]["travail-emploi"] == 2 and summary["fiches_per_source"]["cdtn"] == 2
    assert summary["chunks_per_source"]["travail-emploi"] > 0 and summary["failed"] == 3
    code = summary["references_into_codes"]["Code du travail"]
    assert code["resolved"] > 0 and code["share_resolved"] == 1.0
    assert (index / "articles.sqlite").is_file()
    # A later run of one source leaves the others' fiches where they are.
    result = CliRunner().invoke(cli, [*base, "--source", f"cdtn:{CONTRIBUTIONS}"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["deleted"] == 0 and summary["fiches_per_source"]["travail-emploi"] == 2
    assert "references_into_codes" in summary  # the store beside the index is reused
    # A need about work searches every source; another one, the service-public.fr fiches.
    from retrieval.index.versions import EdgeIndex
    from retrieval.search.retriever import IndexRetriever, sources_in_manifest

    retriever = IndexRetriever(EdgeIndex(index), None, follow_updates=False)
    assert retriever.build_info["sources"] == ["cdtn", "service-public", "travail-emploi"]
    assert retriever.snapshot.sources == sources_in_manifest(retriever.version)  # an older build's way
    about_work, other = retriever.search_many([
        ["Je suis salarié et je voudrais créer une entreprise : le projet initiative-jeune est-il pour moi ?",
         "salarié créer entreprise projet initiative-jeune"],
        ["J'ai 22 ans et je voudrais créer une entreprise : le projet initiative-jeune est-il pour moi ?",
         "créer entreprise projet initiative-jeune"],
    ], k=10, mode="bm25")
    assert about_work.fiches[0].fiche_id == "TE-article373034"
    assert other.fiches and all(f.fiche_id.startswith("F") for f in other.fiches)


def test_cdtn_mdx_components_become_plain_markdown():
    from ingest.sources.socialgouv import markdown_sections, mdx_markdown

    answer = ('Le code du travail prévoit deux cas.\n\n<Tab title="Arrêt  maladie">\n\nL’employeur verse une indemnité.\n\n'
              '</Tab>\n\n<Tab title="Accident du travail">\n\nIl complète les IJ.\n\n</Tab>\n\n<HDN>\n\n'
              "La convention collective peut être plus favorable.\n\n</HDN>")
    sections = markdown_sections(mdx_markdown(answer))
    assert [s.path for s in sections] == [[], ["Arrêt maladie"], ["Accident du travail"]]
    assert sections[1].markdown.startswith("## Arrêt maladie") and "L’employeur verse une indemnité." in sections[1].markdown
    assert "La convention collective peut être plus favorable." in sections[2].markdown
    assert not any("<" in s.markdown for s in sections)
    fiches, _ = read(f"cdtn:{CONTRIBUTIONS}")  # answers that show a service-public.fr fiche in place
    chunk = chunk_fiche(fiches[0])[0]
    assert "<Content" not in chunk.text
    assert "voir la fiche : [https://www.service-public.fr/particuliers/vosdroits/F34414]" in chunk.text


def test_a_fiche_published_twice_word_for_word_is_indexed_once(tmp_path):
    entries = json.loads(TRAVAIL.read_text(encoding="utf-8"))
    first = next(e for e in entries if e.get("pubId") == "article373034")
    twin = dict(first, pubId="article999373")
    edited = dict(first, pubId="article999374", intro=str(first.get("intro") or "") + " Mis à jour.")
    path = tmp_path / "fiches-travail.json"
    path.write_text(json.dumps(entries + [twin, edited], ensure_ascii=False), encoding="utf-8")
    source = open_source(f"travail-emploi:{path}")
    ids = [f.id for f in source.fiches() if isinstance(f, Fiche)]
    assert ids.count("TE-article373034") == 1 and "TE-article999373" not in ids
    assert "TE-article999374" in ids  # same title, other words: a fiche of its own
    assert source.duplicates == {"TE-article999373": "TE-article373034"}
