"""Transliteration and the script-independent search key. Pure Python, no database.

Planners type street names in Belarusian Cyrillic ("вуліца Леніна"), Russian
("улица Ленина"), the national Latin romanisation of 2007 ("vulica Lienina")
or the BGN/PCGN one found on older maps ("vulitsa Lyenina"). `search_key`
folds all of them onto one Latin skeleton ("ul lenina") that the search index
stores and the query is folded with, so a trigram comparison of two keys
compares the names, not the scripts:

- Cyrillic goes to the national Latin first (Russian-only letters и щ э ъ
  follow the Belarusian ones they sound like), ё is read as е;
- Latin digraphs of both systems collapse: ts/c → c, ch/č/kh/h/g → h,
  sh/š → s, zh/ž → z, j → y; a softening i/y before a vowel is dropped
  (lie/lye/le → le), marks (ĺ, ŭ, ć …) and the soft sign vanish;
- the words for street, avenue, lane, square … in all spellings become one
  token each, so "вуліца" and "улица" agree;
- house numbers with a letter in either script ("15А", "15 а", "15-A")
  become "15a".

The key is deliberately lossy (х and ч both become h): it only has to make
equal names equal; the label shown to the user keeps the original text.
"""

from __future__ import annotations

import re
import unicodedata

# Belarusian Cyrillic → Latin, Instruction on transliteration of geographical names (2007, 2023).
_NATIONAL_CONSONANTS = {
    "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "ж": "ž", "з": "z", "й": "j", "к": "k", "л": "l",
    "м": "m", "н": "n", "п": "p", "р": "r", "с": "s", "т": "t", "ў": "ŭ", "ф": "f", "х": "ch", "ц": "c",
    "ч": "č", "ш": "š", "щ": "šč",
}  # fmt: skip
_NATIONAL_PLAIN_VOWELS = {"а": "a", "о": "o", "у": "u", "ы": "y", "э": "e", "і": "i", "и": "i"}
# е ё ю я: "j"+vowel at a word start, after a vowel, ў, apostrophe or soft sign; "i"+vowel after a consonant.
_SOFT_VOWELS = {"е": "e", "ё": "o", "ю": "u", "я": "a"}
# л before a soft vowel or ь is written "l" (the vowel carries the "i"); before ь the softness marks the consonant.
_SOFT_SIGN_MARKED = {"з": "ź", "л": "ĺ", "н": "ń", "с": "ś", "ц": "ć"}

# Belarusian Cyrillic → BGN/PCGN (1979).
_BGN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "ye", "ё": "yo", "ж": "zh", "з": "z",
    "і": "i", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ў": "w", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y",
    "ь": "ʼ", "ъ": "", "э": "e", "ю": "yu", "я": "ya", "'": "", "ʼ": "", "’": "",
}  # fmt: skip

_VOWELS = set("аеёіиоуыэюя")
_APOSTROPHES = "'ʼ’"

# Street-type words in several spellings (folded at import by the same rules) → one token each.
_STREET_TYPES = {
    "ul": ("вуліца", "вул", "улица", "ул", "vulica", "vulitsa", "ulitsa", "ulica"),
    "pr": ("праспект", "прасп", "проспект", "просп", "пр-т", "пр", "prospekt", "praspekt", "prasp", "prosp"),
    "pl": ("плошча", "пл", "площадь", "plošča", "ploshcha", "ploshchad"),
    "prav": ("завулак", "зав", "переулок", "пер", "zavulak", "pereulok"),
    "bul": ("бульвар", "бул", "bulvar", "bulʼvar", "bul'var"),
    "sh": ("шаша", "шоссе", "šaša", "shasha", "shosse"),
    "tr": ("тракт", "trakt"),
    "nab": ("набярэжная", "набережная", "nabiarežnaja", "nabyarezhnaya", "naberezhnaya"),
    "prd": ("праезд", "проезд", "prajezd", "prayezd", "proyezd", "proezd"),
    "tup": ("тупік", "тупик", "tupik"),
}
_LATIN_DIACRITICS = {"č": "ch", "š": "sh", "ž": "zh", "ŭ": "u", "ë": "yo", "ĺ": "l", "ć": "c", "ś": "s", "ź": "z", "ń": "n"}
_DIGRAPHS = re.compile(r"shch|sch|kh|ch|sh|zh|ts|tz|[gjwx]")
_DIGRAPH_FOLD = {"shch": "s", "sch": "s", "kh": "h", "ch": "h", "sh": "s", "zh": "z", "ts": "c", "tz": "c", "g": "h",
                 "j": "y", "w": "u", "x": "ks"}  # fmt: skip
_SOFTENING = re.compile(r"(?<=[a-z])[iy](?=[aeou])|^[iy](?=[aeou])|(?<=\s)[iy](?=[aeou])")
_HOUSE_NUMBER = re.compile(r"(\d+)\s*[-/]?\s*([a-z])(?![a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9/]+")


def _street_tokens() -> dict[str, str]:
    tokens: dict[str, str] = {}
    for token, variants in _STREET_TYPES.items():
        for variant in variants:
            for word in _fold_words(to_national_latin(variant) if is_cyrillic(variant) else variant):
                tokens[word] = token
    return tokens


def is_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def to_national_latin(text: str) -> str:
    """Belarusian Cyrillic in the national Latin romanisation: "вуліца Леніна" → "vulica Lienina"."""
    out: list[str] = []
    previous = ""
    for index, ch in enumerate(text):
        lower = ch.lower()
        following = text[index + 1].lower() if index + 1 < len(text) else ""
        if lower in _SOFT_VOWELS:
            after_consonant = previous.isalpha() and previous not in _VOWELS and previous not in "ўьъ"
            latin = ("i" if after_consonant else "j") + _SOFT_VOWELS[lower]
        elif lower in _NATIONAL_PLAIN_VOWELS:
            latin = _NATIONAL_PLAIN_VOWELS[lower]
        elif lower in _SOFT_SIGN_MARKED and following == "ь":
            latin = _SOFT_SIGN_MARKED[lower]
        elif lower in _NATIONAL_CONSONANTS:
            latin = _NATIONAL_CONSONANTS[lower]
        elif lower in ("ь", "ъ") or ch in _APOSTROPHES:
            latin = ""
        else:
            latin = ch
        out.append(_match_case(latin, ch, text[index + 1 : index + 2]))
        previous = lower if lower.isalpha() or ch in _APOSTROPHES else ""
    return "".join(out)


def to_bgn_pcgn(text: str) -> str:
    """Belarusian Cyrillic in BGN/PCGN: "вуліца Леніна" → "vulitsa Lyenina"."""
    out: list[str] = []
    for index, ch in enumerate(text):
        latin = _BGN.get(ch.lower(), ch)
        out.append(_match_case(latin, ch, text[index + 1 : index + 2]))
    return "".join(out)


def _match_case(latin: str, original: str, following: str) -> str:
    if not latin or not original.isupper():
        return latin
    # "Ц" → "C", but "ЦЕНТР" → "CIENTR" and "Шчара" → "Ščara": keep the capital on the first letter only in a word.
    return latin.upper() if following.isupper() else latin[0].upper() + latin[1:]


def search_key(text: str) -> str:
    """The script-independent key of a name or address (see the module docstring)."""
    latin = to_national_latin(text.replace("ё", "е").replace("Ё", "Е")) if is_cyrillic(text) else text
    return _fold_latin(latin)


def _fold_latin(text: str) -> str:
    return " ".join(_STREET_TOKEN.get(word, word) for word in _fold_words(text))


def _fold_words(text: str) -> list[str]:
    lowered = "".join(_LATIN_DIACRITICS.get(ch, ch) for ch in text.lower())
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(ch))
    plain = plain.replace("'", "").replace("ʼ", "").replace("’", "")
    folded = _DIGRAPHS.sub(lambda m: _DIGRAPH_FOLD[m.group(0)], plain)
    folded = _SOFTENING.sub("", folded)
    folded = _HOUSE_NUMBER.sub(r"\1\2", folded)
    return [w for w in _NOT_WORD.split(folded.replace(".", " ")) if w]


_STREET_TOKEN = _street_tokens()
