"""Organisation name normalisation that knows UK legal forms. Pure; no Django.

`normalise_name("The Hartdon Youth Works C.I.C.")` → `"hartdon youth works"`, and the legal form
it stripped is available from `legal_form_hint()`. What it does, in order:

1. Unicode to ASCII (accents dropped), lower case; "t/a" / "trading as" keeps the legal part.
2. "(UK)" in brackets is dropped (a label of the UK arm of a group); a bare "UK" is kept, so
   "Age UK" stays "age uk".
3. "&" and "+" become "and"; dotted abbreviations close up ("C.I.C." → "cic", "p.l.c." → "plc");
   other punctuation becomes a space; "co-op", "co operative" and "cooperative" become one word.
4. A leading "The" is dropped.
5. Legal-form words at the END are dropped, repeatedly ("… Community Interest Company",
   "… CIC Limited", "… Ltd", "… PLC", "… LLP", "… CIO", "… Community Benefit Society" …), but
   never the whole name ("Limited" alone stays "limited").

Words inside a name are never removed: "Trust", "Group", "Services" and "UK" carry meaning.
See docs/adr/0007-supplier-resolution.md for why this is our own small normaliser.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Longest first: these are matched as whole trailing word sequences after punctuation is removed.
LEGAL_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        (
            ("community interest company", "cic"),
            ("community interest co", "cic"),
            ("cic", "cic"),
            ("charitable incorporated organisation", "cio"),
            ("charitable incorporated organization", "cio"),
            ("scio", "cio"),
            ("cio", "cio"),
            ("community benefit society", "society"),
            ("industrial and provident society", "society"),
            ("registered society", "society"),
            ("public limited company", "plc"),
            ("plc", "plc"),
            ("limited liability partnership", "llp"),
            ("llp", "llp"),
            ("limited partnership", "lp"),
            ("limited", "company"),
            ("ltd", "company"),
            ("company limited by guarantee", "company"),
            ("unlimited", "company"),
            ("cyfyngedig", "company"),
            ("cyf", "company"),
        ),
        key=lambda item: -len(item[0]),
    )
)
_SUFFIX_WORDS = [(tuple(text.split()), form) for text, form in LEGAL_SUFFIXES]

_TRADING_AS = re.compile(r"\s+(?:t/a|t\\a|trading as)\s+.*$", re.IGNORECASE)
_UK_IN_BRACKETS = re.compile(r"[(\[]\s*u\.?\s*k\.?\s*[)\]]", re.IGNORECASE)
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?:[a-z]\b\.?)?")
_AMPERSAND = re.compile(r"\s*[&+]\s*")
_PUNCTUATION = re.compile(r"[^a-z0-9 ]+")
_APOSTROPHE = re.compile(r"['\u2019`]")
_COOPERATIVE = re.compile(r"\bco\s?op(?:erative)?\b|\bcooperative\b")
_SPACES = re.compile(r"\s+")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _words(name: str | None) -> tuple[list[str], str]:
    if not name:
        return [], ""
    text = _ascii(name).strip()
    text = _TRADING_AS.sub("", text)
    text = _UK_IN_BRACKETS.sub(" ", text).lower()
    text = _APOSTROPHE.sub("", text)
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _AMPERSAND.sub(" and ", text)
    text = text.replace("-", " ")
    text = _PUNCTUATION.sub(" ", text)
    text = _COOPERATIVE.sub("cooperative", text)
    words = _SPACES.sub(" ", text).strip().split(" ")
    words = [w for w in words if w]
    while len(words) > 1 and words[0] == "the":  # every leading "the", so normalising is idempotent
        words = words[1:]
    form = ""
    stripped = True
    while stripped:
        stripped = False
        for suffix, suffix_form in _SUFFIX_WORDS:
            n = len(suffix)
            if len(words) > n and tuple(words[-n:]) == suffix:
                words = words[:-n]
                if form in ("", "company"):
                    form = suffix_form
                stripped = True
                break
    return words, form


@lru_cache(maxsize=200_000)
def normalise_name(name: str | None) -> str:
    """The comparable form of an organisation name ("" for an empty name)."""
    return " ".join(_words(name)[0])


def legal_form_hint(name: str | None) -> str:
    """The legal form the name's ending claims: cic, cio, society, plc, llp, lp, company or ""."""
    return _words(name)[1]


def name_prefix(normalised: str, words: int = 2) -> str:
    """The first words of a normalised name (a blocking key)."""
    return " ".join(normalised.split(" ")[:words])
