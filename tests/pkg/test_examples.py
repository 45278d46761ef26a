"""course_pkg.examples: the chapters' toy sentence and figure labels follow the reader's language."""
import pytest

from course_pkg.examples import MESSAGES, TOY_SENTENCES, text, toy_sentence


def test_toy_sentence_has_the_same_length_in_every_language():
    lengths = {lang: len(toy_sentence(lang)) for lang in TOY_SENTENCES}
    assert len(set(lengths.values())) == 1, lengths


def test_toy_sentence_follows_course_lang(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "zh")
    assert toy_sentence() == TOY_SENTENCES["zh"]
    monkeypatch.setenv("COURSE_LANG", "ja")
    assert toy_sentence() == TOY_SENTENCES["ja"]


def test_toy_sentence_returns_a_copy():
    toy_sentence("ja").append("x")
    assert "x" not in toy_sentence("ja")


def test_every_label_exists_in_ja_zh_and_en():
    for key, entry in MESSAGES.items():
        assert set(entry) == {"ja", "zh", "en"}, key
        assert entry["ja"] != entry["en"], key


def test_text_formats_and_rejects_unknown_keys():
    assert text("head", lang="zh", h=3) == "头 3"
    assert "512" in text("softmax_title", lang="ja", d_k=512)
    with pytest.raises(ValueError, match="no_such_key"):
        text("no_such_key", lang="ja")
    with pytest.raises(ValueError, match="fr"):
        toy_sentence("fr")
