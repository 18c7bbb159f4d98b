"""Légifrance URLs in their old and new formats → the identifier of the cited text."""

from __future__ import annotations

import pytest

from ingest.legifrance import legifrance_id, legifrance_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Old formats (affich*.do), with the most precise identifier winning.
        ("http://www.legifrance.gouv.fr/affichCode.do?idSectionTA=LEGISCTA000006176320&cidTexte=LEGITEXT000006074096",
         "LEGISCTA000006176320"),
        ("http://www.legifrance.gouv.fr/./affichCode.do?idSectionTA=LEGISCTA000006176320&cidTexte=LEGITEXT000006074096",
         "LEGISCTA000006176320"),
        ("https://www.legifrance.gouv.fr/affichCodeArticle.do?idArticle=LEGIARTI000006419292&cidTexte=LEGITEXT000006070721&dateTexte=20200101",
         "LEGIARTI000006419292"),
        ("https://www.legifrance.gouv.fr/affichTexteArticle.do;jsessionid=ABC123?idArticle=LEGIARTI000033219313&cidTexte=JORFTEXT000033202746",
         "LEGIARTI000033219313"),
        ("https://www.legifrance.gouv.fr/affichTexte.do?cidTexte=JORFTEXT000041923734&dateTexte=&categorieLien=id",
         "JORFTEXT000041923734"),
        ("https://www.legifrance.gouv.fr/affichTexte.do?cidTexte=JORFTEXT000037365505#JORFSCTA000037365517",
         "JORFTEXT000037365505"),
        ("https://www.legifrance.gouv.fr/affichCode.do?cidTexte=LEGITEXT000006072050", "LEGITEXT000006072050"),
        # New formats (since 2020).
        ("https://www.legifrance.gouv.fr/codes/id/LEGITEXT000006072050/", "LEGITEXT000006072050"),
        ("https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000041397583", "LEGIARTI000041397583"),
        ("https://www.legifrance.gouv.fr/codes/section_lc/LEGITEXT000006072050/LEGISCTA000006132338/",
         "LEGISCTA000006132338"),
        ("https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000041789669/", "JORFTEXT000041789669"),
        ("https://www.legifrance.gouv.fr/loda/id/JORFTEXT000041776887/", "JORFTEXT000041776887"),
        ("https://www.legifrance.gouv.fr/jorf/article_jo/JORFARTI000041746348", "JORFARTI000041746348"),
        # Case and percent-encoding do not matter.
        ("HTTPS://WWW.LEGIFRANCE.GOUV.FR/affichCodeArticle.do?idArticle%3DLEGIARTI000006419292", "LEGIARTI000006419292"),
    ],
)
def test_identifier_of_each_url_format(url, expected):
    assert legifrance_id(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://circulaires.legifrance.gouv.fr/pdf/2019/06/cir_44775.pdf",  # circulaires: no identifier
        "https://www.service-public.fr/particuliers/vosdroits/LEGIARTI000006419292",  # not Légifrance
        "https://www.legifrance.gouv.fr/affichCode.do?cidTexte=LEGITEXT0000060",  # truncated number
    ],
)
def test_no_identifier(url):
    assert legifrance_id(url) is None


def test_old_and_new_urls_of_the_same_article_agree():
    old = "http://www.legifrance.gouv.fr/affichCodeArticle.do?idArticle=LEGIARTI000041397583&cidTexte=LEGITEXT000006072050"
    new = "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000041397583/2020-01-01"
    assert legifrance_id(old) == legifrance_id(new)
    assert legifrance_id(legifrance_url(legifrance_id(old))) == legifrance_id(old)
