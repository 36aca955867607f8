"""The folding rules match on: each disguise spammers use reads as the plain word, and what is not a disguise (a
longer word, a number, another language) stays itself."""

from __future__ import annotations

import pytest

from inbox.normalize import normalize

pytestmark = pytest.mark.no_sandbox


@pytest.mark.parametrize(
    "written",
    [
        "free",
        "FREE",
        "FrEe",
        "frée",  # accent
        "fréé",
        "fre\u0301e",  # accent as a separate combining mark
        "ｆｒｅｅ",  # fullwidth
        "ＦＲＥＥ",
        "𝐟𝐫𝐞𝐞",  # mathematical bold
        "ⓕⓡⓔⓔ",  # circled
        "ᶠʳᵉᵉ",  # modifier letters
        "ꜰʀᴇᴇ",  # small capitals
        "fr33",  # leetspeak
        "FR33",
        "fr3e",
        "frее",  # Cyrillic е twice
        "FRЕЕ",  # Cyrillic Е uppercase
        "FRΕΕ",  # Greek Epsilon
        "f.r.e.e",  # dots between single letters
        "F.R.E.E",
        "f-r-e-e",
        "f*r*e*e",
        "Ｆ.Ｒ.Ｅ.Ｅ",
        "free🔥🔥",  # emoji
        "🔥free🔥",
        "free!!!",
        "#free",
        "freeeee",  # stretched
        "FREEEEEEEE",
        "fr\u200bee",  # zero-width space
        "f\u200dr\u00ade\u2060e",  # zero-width joiner, soft hyphen, word joiner
        "  free  ",
        "free\ufe0f",  # variation selector
    ],
)
def test_each_disguise_of_free_reads_free(written):
    assert normalize(written) == "free"


@pytest.mark.parametrize(
    "written,folded",
    [
        ("Straße", "strasse"),  # ß casefolds to ss
        ("İSTANBUL", "istanbul"),  # Turkish dotted capital I
        ("ıstanbul", "istanbul"),  # Turkish dotless i
        ("Ça va, Zoë?", "ca va zoe"),
        ("h3ll0 w0rld", "hello world"),
        ("p@ss", "pass"),
        ("CA$H", "cash"),
        ("fr33 f0ll0wers 👉 spam.example", "free followers spam example"),
        ("Ｆｒｅｅ ｆｏｌｌｏｗｅｒｓ!! visit spam.example", "free followers visit spam example"),
        ("free🔥money", "free money"),  # an emoji between words separates them
        ("@fr33bie", "freebie"),  # a leading @ is a mention
        ("don't", "dont"),
        ("don’t", "dont"),
        ("hellllo", "hello"),
        ("loooove", "loove"),  # three or more count as two, never one ("good" is not "god")
        ("good", "good"),
        ("user_name", "user name"),
        ("hello\n\n\t  world", "hello world"),
        ("", ""),
        ("😀🙏", ""),
    ],
)
def test_folding(written, folded):
    assert normalize(written) == folded


@pytest.mark.parametrize(
    "written,folded",
    [
        ("2024", "2024"),  # a number has no letters: its digits stay digits
        ("1.2.3", "1 2 3"),  # digits alone are not spelled-out words
        ("$100", "100"),
        ("€5 off", "5 off"),
        ("10am", "10am"),  # a number with a short unit is not leetspeak
        ("5k", "5k"),
        ("2nd", "2nd"),
        ("freedom", "freedom"),
        ("e.g.", "e g"),  # two single letters are not a spelled-out word
        ("f r e e", "f r e e"),  # letters separated by spaces stay separate words
    ],
)
def test_what_is_not_a_disguise_stays(written, folded):
    assert normalize(written) == folded


@pytest.mark.parametrize(
    "written",
    [
        "привет мир",  # Russian with letters that are not look-alikes stays Russian
        "Отличное видео",
        "がんばって",  # the Japanese voicing mark is part of the letter
        "नमस्ते",  # Devanagari vowel signs and virama are letters' parts
        "مرحبا",
    ],
)
def test_other_languages_stay_in_their_script(written):
    folded = normalize(written)
    assert folded == " ".join(written.casefold().split())


def test_a_word_and_a_look_alike_spelling_of_it_fold_the_same_in_any_context():
    # The look-alike step decides per word, so a word folds alike in a rule and in a comment around other words.
    assert normalize("это сор") == "это cop"
    assert normalize("сор") == "cop"
    assert normalize("Тут сор") == normalize("тут") + " " + normalize("сор")


def test_accents_that_are_optional_in_arabic_and_hebrew_are_dropped():
    assert normalize("زَيْت") == normalize("زيت")
    assert normalize("שָׁלוֹם") == normalize("שלום")
