"""course_pkg.data.toy_sentence: the chapters' toy sentence follows the reader's language."""

import pytest

from course_pkg.data import TOY_ROLES, TOY_SENTENCES, toy_sentence


def test_toy_sentence_has_the_same_length_in_every_language():
    lengths = {lang: len(toy_sentence(lang)) for lang in TOY_SENTENCES}
    assert len(set(lengths.values())) == 1, lengths


def test_toy_sentence_follows_course_lang(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "zh")
    assert toy_sentence() == [tok for tok, _ in TOY_SENTENCES["zh"]]
    monkeypatch.setenv("COURSE_LANG", "ja")
    assert toy_sentence()[0] == "ふわふわ"


def test_toy_sentence_returns_a_copy():
    toy_sentence("ja").append("x")
    assert "x" not in toy_sentence("ja")


def test_every_token_has_a_known_role_and_every_sentence_a_noun():
    for lang in TOY_SENTENCES:
        pairs = toy_sentence(lang, roles=True)
        assert {role for _, role in pairs} <= set(TOY_ROLES), lang
        assert "noun" in {role for _, role in pairs}, lang


def test_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="fr"):
        toy_sentence("fr")
