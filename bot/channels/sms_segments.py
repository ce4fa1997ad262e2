"""SMS sizing: which encoding a text needs, how many segments it costs, and cutting at sentences.

One SMS segment holds 160 GSM-7 septets (characters of the GSM 03.38 alphabet; those of its
extension table, such as € [ ] { }, take two) or 70 UCS-2 code units (any other script: Thai, Arabic,
Russian, and also Spanish á/í/ó/ú). A text that needs more is sent concatenated, 153 / 67 per part.
GSM-7 membership comes from the `gsm0338` codec.

Safeline sends each part as its own SMS, cut between sentences and sized with the concatenated
limits, so a part is readable alone, in any order, on any phone, and costs exactly one segment.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec

GSM7 = "GSM-7"
UCS2 = "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
CONCATENATED = {GSM7: 153, UCS2: 67}

# A sentence ends at . ! ? … (and the CJK, Arabic, Devanagari forms) followed by space, or at a
# line break. Thai marks sentences with a space only, so long Thai sentences are cut at spaces.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？؟।])\s+|\n+")
_SPACE = re.compile(r"(?<=\s)")


# Look-alike punctuation that would force UCS-2 (halving the segment) for no visible gain;
# the same idea as Twilio's "smart encoding".
_LOOKALIKES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "-"})


def gsm_friendly(text: str) -> str:
    """Replace typographic quotes, dashes, ellipses and no-break spaces by plain ones."""
    return text.translate(_LOOKALIKES)


def encoding_of(text: str) -> str:
    """GSM-7 when every character is in the GSM 03.38 alphabet (with extensions), else UCS-2."""
    try:
        text.encode("gsm03.38")
    except (UnicodeEncodeError, ValueError):
        return UCS2
    return GSM7


def units(text: str, encoding: Optional[str] = None) -> int:
    """Septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2) of a text."""
    encoding = encoding or encoding_of(text)
    if encoding == GSM7:
        return len(text.encode("gsm03.38"))
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many segments a carrier bills for the text sent as one (possibly concatenated) SMS."""
    encoding = encoding_of(text)
    size = units(text, encoding)
    if size <= SINGLE[encoding]:
        return 1
    return -(-size // CONCATENATED[encoding])


def fits(text: str, concatenated: bool) -> bool:
    """Does the text fit one segment (with the concatenated limits if it is one of several parts)?"""
    encoding = encoding_of(text)
    limit = (CONCATENATED if concatenated else SINGLE)[encoding]
    return units(text, encoding) <= limit


def sentences(text: str) -> list[str]:
    """The sentences (and lines) of a text, whitespace trimmed, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _hard_cut(text: str) -> list[str]:
    """Cut a word longer than a part into pieces that fit, character by character."""
    pieces: list[str] = []
    current = ""
    for ch in text:
        if current and not fits(current + ch, concatenated=True):
            pieces.append(current)
            current = ""
        current += ch
    return pieces + ([current] if current else [])


def chunks(sentence: str) -> list[str]:
    """A sentence as pieces that each fit one part: whole if it fits, else cut at spaces."""
    if fits(sentence, concatenated=True):
        return [sentence]
    pieces: list[str] = []
    current = ""
    for word in _SPACE.split(sentence):
        if not word:
            continue
        candidate = current + word
        if fits(candidate.strip(), concatenated=True):
            current = candidate
            continue
        if current.strip():
            pieces.append(current.strip())
        current = word
        if not fits(current.strip(), concatenated=True):
            *whole, current = _hard_cut(current.strip())
            pieces.extend(whole)
    if current.strip():
        pieces.append(current.strip())
    return pieces


@dataclass(frozen=True)
class Piece:
    """A unit that is kept or dropped whole: a sentence (or part of one), an option list, a hint."""

    text: str
    sep: str = " "  # joins it to the previous piece when both land in the same part
    priority: int = 3  # 0 is always kept first; higher numbers are dropped first


def pack(pieces: Iterable[Piece]) -> list[str]:
    """Join pieces in order into as few parts as possible, never cutting inside a piece."""
    ordered = list(pieces)
    whole = "".join((p.sep if i else "") + p.text for i, p in enumerate(ordered))
    if whole and fits(whole, concatenated=False):
        return [whole]
    parts: list[str] = []
    current = ""
    for piece in ordered:
        candidate = current + piece.sep + piece.text if current else piece.text
        if fits(candidate, concatenated=True):
            current = candidate
            continue
        if current:
            parts.append(current)
        current = piece.text
    return parts + ([current] if current else [])


def fit(pieces: list[Piece], max_parts: int) -> tuple[list[str], list[Piece]]:
    """The parts to send (at most `max_parts`) and the pieces left out, both in original order.

    Pieces are admitted by priority (then position) while the packed result still fits, so an
    emergency line and a question with its numbered options survive before background sentences.
    Once a piece is left out, no later piece of the same or lesser priority gets in: the text never
    skips ahead, so what is sent and what is kept for later both read in order.
    """
    if len(pack(pieces)) <= max_parts:
        return pack(pieces), []
    chosen: set[int] = set()
    cuts: list[tuple[int, int]] = []  # (position, priority) of pieces that did not fit
    for index in sorted(range(len(pieces)), key=lambda i: (pieces[i].priority, i)):
        priority = pieces[index].priority
        if any(position < index and priority >= cut for position, cut in cuts):
            continue
        trial = chosen | {index}
        if len(pack(pieces[i] for i in sorted(trial))) <= max_parts:
            chosen = trial
        else:
            cuts.append((index, priority))
    kept = [pieces[i] for i in sorted(chosen)]
    left = [pieces[i] for i in range(len(pieces)) if i not in chosen]
    return pack(kept), left
