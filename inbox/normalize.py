"""Fold a comment's text so that the disguises spammers use read as the plain word.

`normalize("ＦＲЕЕ🔥 m0ney!!!")` → `"free money"`. Rules compare a comment's folded text with their words and
patterns folded the same way, so every choice below applies to both sides alike. The steps, in order:

1. NFKC: fullwidth letters (ｆｒｅｅ), ligatures (ﬁ), circled and mathematical letters (ⓕ, 𝐟) become plain ones.
2. Case and accents: casefold (so ß → ss, Σ/σ/ς → σ) and accents removed (é → e, İ → i) by decomposing and
   dropping the combining marks of Latin, Greek and Cyrillic letters, the optional vowel points of Hebrew and
   Arabic, and variation selectors. Marks that are letters' vowels in other scripts (Devanagari, Thai, the
   Japanese voicing marks, ...) stay, because dropping them would make different words equal. Turkish dotless
   ı and Latin small capitals (ᴀ, ʀ, ɪ, ...) become their plain letters. Zero-width spaces and joiners, soft
   hyphens and other invisible format characters are removed; apostrophes are removed ("don't" = "dont").
3. Look-alikes: in a word whose letters are all Latin or look-alikes (Cyrillic а е о р с у х і ј ѕ һ ԁ ԛ ԝ ӏ,
   Greek α ε ι κ ν ο ρ τ υ χ), the look-alikes become the Latin letters ("frее" with Cyrillic е = "free"). The
   check is per word, never per comment, so a word folds the same in a rule and in any comment. A word with
   another Cyrillic or Greek letter is real Russian, Greek, ... and stays as written ("привет"). The price:
   the few Russian and Greek words made only of look-alikes also fold to Latin ("сор" = "cop"); they still
   match themselves.
4. Spelled-out words: three or more single letters joined by dots, dashes, stars or middle dots are one word
   ("f.r.e.e" = "free", "s-e-x" = "sex"). Letters separated by spaces ("f r e e") stay separate words, and
   digits alone stay apart ("1.2.3").
5. Leetspeak: 0→o 1→i 3→e 4→a 5→s 7→t @→a $→s, only inside words that contain a letter ("fr33" = "free",
   "p@ss" = "pass"), so numbers stay numbers ("2024", "$100"). A number with a short unit ("10am", "5k",
   "2nd") is left alone, and a leading @ is a mention, not an a ("@fr33" = "free").
6. Everything that is not a letter or digit (punctuation, emoji, symbols) separates words, so "free🔥🔥" and
   "free!!!" are "free" and "free🔥money" is "free money".
7. A letter repeated three or more times counts twice ("freeeee" = "free", "hellllo" = "hello"); letters are
   not squeezed to one because that would make "good" equal "god". So "loooove" folds to "loove".
8. Words are separated by one space, with none at either end.

The result is made only of letters, digits and single spaces, so a phrase matches whole words when
`f" {phrase} "` occurs in `f" {text} "`.

Speed: the per-character work is one `str.translate` through a table that computes each character once and
remembers it; pure-ASCII text skips it. The rest is a few precompiled regular expressions.
"""

from __future__ import annotations

import re
import unicodedata

# Combining marks that are accents on Latin, Greek and Cyrillic letters, optional points in Hebrew and Arabic,
# or variation selectors: dropped. Other marks are parts of letters in their scripts and stay.
_STRIPPED_MARKS = (
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0483, 0x0489),  # Cyrillic combining marks
    (0x0591, 0x05C7),  # Hebrew points and cantillation
    (0x0610, 0x061A),  # Arabic signs
    (0x064B, 0x065F),  # Arabic harakat
    (0x0670, 0x0670),
    (0x06D6, 0x06ED),
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # combining diacritical marks supplement
    (0x20D0, 0x20FF),  # combining marks for symbols (keycaps, enclosing circles)
    (0xFE00, 0xFE0F),  # variation selectors (emoji vs text presentation)
    (0xFE20, 0xFE2F),  # combining half marks
    (0xE0100, 0xE01EF),  # variation selectors supplement
)

# Latin letters NFKC leaves alone: small capitals, IPA forms, dotless i and j.
_LATIN_EXTRA = {
    "ı": "i",
    "ȷ": "j",
    "ɑ": "a",
    "ɡ": "g",
    "ᴀ": "a",
    "ʙ": "b",
    "ᴄ": "c",
    "ᴅ": "d",
    "ᴇ": "e",
    "ꜰ": "f",
    "ɢ": "g",
    "ʜ": "h",
    "ɪ": "i",
    "ᴊ": "j",
    "ᴋ": "k",
    "ʟ": "l",
    "ᴍ": "m",
    "ɴ": "n",
    "ᴏ": "o",
    "ᴘ": "p",
    "ʀ": "r",
    "ꜱ": "s",
    "ᴛ": "t",
    "ᴜ": "u",
    "ᴠ": "v",
    "ᴡ": "w",
    "ʏ": "y",
    "ᴢ": "z",
}

_APOSTROPHES = "'’‘ʼ`´"

# Lowercase Cyrillic and Greek letters that pass for Latin ones (the step runs after casefolding).
CONFUSABLES = {
    # Cyrillic
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "һ": "h",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
    # Greek (ε is also what an uppercase Ε folds to)
    "α": "a",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
}
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_HAS_CONFUSABLE = re.compile("[" + "".join(CONFUSABLES) + "]")

LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_TABLE = str.maketrans(LEET)


def _stripped_mark(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _STRIPPED_MARKS)


def _fold_char(ch: str) -> str:
    """One character after NFKC: casefolded, accents off, invisible characters gone."""
    if ch in _LATIN_EXTRA:
        return _LATIN_EXTRA[ch]
    if ch in _APOSTROPHES:
        return ""
    if ch == "_":
        return " "
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width space/joiners, bidi marks, soft hyphen, tag characters
        return ""
    if category in ("Mn", "Me"):
        return "" if _stripped_mark(ord(ch)) else ch
    folded = unicodedata.normalize("NFKD", ch.casefold())
    kept = "".join(c for c in folded if not _stripped_mark(ord(c)))
    kept = unicodedata.normalize("NFC", kept)
    return "".join(_LATIN_EXTRA.get(c, c) for c in kept)


_FOLD_CACHE_SIZE = 20_000


class _FoldTable(dict[int, str]):
    """A translate table filled on first sight of each character: the full table (1.1 million code points)
    would take a second to build, and a workspace's comments use a few hundred."""

    def __missing__(self, cp: int) -> str:
        value = _fold_char(chr(cp))
        if len(self) < _FOLD_CACHE_SIZE:  # text made of every character there is must not fill the memory
            self[cp] = value
        return value


_FOLD = _FoldTable()
_ASCII_FOLD = str.maketrans({"'": "", "`": "", "_": " "})


# A rule's pattern is folded with its wildcards standing in as letters of a script nobody writes comments in
# (Linear B), so the text around them folds as it would in a comment ("fr3*" → "fre*"). They count as Latin next to
# look-alikes, and not as letters when deciding whether a word is a number ("*2024" keeps its digits).
WILDCARD_FIRST = 0x10000
WILDCARD_LAST = 0x1003F


def is_wildcard(ch: str) -> bool:
    return WILDCARD_FIRST <= ord(ch) <= WILDCARD_LAST


def _is_latin(ch: str) -> bool:
    cp = ord(ch)
    return cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF or WILDCARD_FIRST <= cp <= WILDCARD_LAST


_WORD = re.compile(r"\w+")


def _unconfuse(m: re.Match[str]) -> str:
    word = m.group()
    if all(c in CONFUSABLES or _is_latin(c) for c in word if c.isalpha()):
        return word.translate(_CONFUSABLE_TABLE)
    return word


_SEPARATORS = ".\\-*·•"
_ELEMENT = r"(?:[^\W_]|[@$])"
_SPELLED = re.compile(
    rf"(?<![\w@${_SEPARATORS}]){_ELEMENT}(?:[{_SEPARATORS}]{_ELEMENT}){{2,}}(?![\w@$]|[{_SEPARATORS}]{_ELEMENT})"
)
_SEPARATOR = re.compile(rf"[{_SEPARATORS}]")


def _join_spelled(m: re.Match[str]) -> str:
    run = m.group()
    return _SEPARATOR.sub("", run) if any(c.isalpha() for c in run) else run


# Whole runs, checked inside: a pattern that looks for the leet character itself backtracks quadratically on a long
# word without one.
_LEET_WORD = re.compile(r"[\w@$]+")
_HAS_LEET = re.compile(r"[013457@$]")
_NUMBER_WITH_UNIT = re.compile(r"\d+[^\W\d]{1,2}")


def _unleet(m: re.Match[str]) -> str:
    word = m.group()
    if not _HAS_LEET.search(word):
        return word
    mention = word.startswith("@")
    if mention:
        word = word.lstrip("@")
    if not any(c.isalpha() and not is_wildcard(c) for c in word) or _NUMBER_WITH_UNIT.fullmatch(word):
        return word
    if word.startswith("$") and word[1:2].isdigit():  # money, not an s
        return word
    return word.translate(_LEET_TABLE)


_NON_WORD = re.compile(r"[^\w\s]+")


def _separate(m: re.Match[str]) -> str:
    # Combining marks are not \w, yet they are parts of letters in the scripts that keep them (Devanagari).
    return "".join(c if unicodedata.category(c)[0] == "M" else " " for c in m.group())


_REPEAT = re.compile(r"([^\W\d])\1{2,}")


def normalize(text: str) -> str:
    """The comparable form of `text`: see the module's docstring for each step."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    ascii_only = text.isascii()
    if ascii_only:
        text = text.lower().translate(_ASCII_FOLD)
    else:
        text = text.translate(_FOLD)
        if _HAS_CONFUSABLE.search(text):
            text = _WORD.sub(_unconfuse, text)
    text = _SPELLED.sub(_join_spelled, text)
    if _HAS_LEET.search(text):
        text = _LEET_WORD.sub(_unleet, text)
    text = _NON_WORD.sub(" " if ascii_only else _separate, text)
    text = _REPEAT.sub(r"\1\1", text)
    return " ".join(text.split())
