"""SMS sizing: encodings, segment counts, cutting between sentences, fitting a reply into N parts."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from bot.channels.sms_segments import (
    GSM7, UCS2, Piece, chunks, encoding_of, fit, fits, gsm_friendly, pack, segments, sentences, units,
)


def test_plain_latin_text_is_gsm7_and_other_scripts_are_ucs2():
    assert encoding_of("Hello, can you help me? £5 @ home") == GSM7
    assert encoding_of("Ñandù, é, ü, Ç") == GSM7  # in the GSM 03.38 alphabet
    for text in ("Hola, ¿cómo estás?", "สวัสดี", "مرحبا", "Привет", "Xin chào bạn", "hi 🙏"):
        assert encoding_of(text) == UCS2, text


def test_gsm7_extension_characters_count_twice_and_emoji_count_two_ucs2_units():
    assert units("[x]") == 5 and units("€") == 2
    assert units("🙏") == 2 and units("ไทย") == 3


def test_segment_counts_use_160_153_and_70_67():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("ж" * 70) == 1 and segments("ж" * 71) == 2 and segments("ж" * 134) == 2
    assert segments("ж" * 135) == 3
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2


def test_typographic_punctuation_is_made_gsm_friendly():
    text = gsm_friendly("It\u2019s \u201cfine\u201d \u2013 really\u2026")
    assert text == "It's \"fine\" - really..." and encoding_of(text) == GSM7


def test_sentences_split_after_punctuation_and_at_line_breaks():
    assert sentences("One. Two? Three!\nFour") == ["One.", "Two?", "Three!", "Four"]
    assert sentences("هل أنت بخير؟ نعم.") == ["هل أنت بخير؟", "نعم."]
    assert sentences("  \n ") == []


def test_a_long_sentence_is_cut_at_spaces_and_a_long_word_by_characters():
    sentence = " ".join(["word"] * 80)
    pieces = chunks(sentence)
    assert all(fits(p, concatenated=True) for p in pieces)
    assert " ".join(pieces) == sentence
    assert all(fits(p, concatenated=True) for p in chunks("x" * 500))
    assert "".join(chunks("ไทย" * 100)) == "ไทย" * 100


def test_pack_keeps_a_short_text_whole_and_cuts_long_ones_between_pieces():
    assert pack([Piece("Hello."), Piece("How are you?")]) == ["Hello. How are you?"]
    parts = pack([Piece("a" * 100 + "."), Piece("b" * 100 + "."), Piece("c" * 100 + ".")])
    assert parts == ["a" * 100 + ".", "b" * 100 + ".", "c" * 100 + "."]


def test_fit_keeps_priority_pieces_and_returns_the_rest_in_order():
    pieces = [Piece("Call 112 now.", priority=0)] + [Piece(f"Background sentence number {i} " + "x" * 60 + ".")
                                                      for i in range(6)] + [Piece("1) Yes", "\n", 2), Piece("2) No", "\n", 2)]
    parts, left = fit(pieces, 2)
    assert len(parts) <= 2 and parts[0].startswith("Call 112 now.")
    assert left and all(p in pieces for p in left)
    kept_and_left = [p for p in pieces if p not in left]
    assert kept_and_left[0].text == "Call 112 now."


def test_once_a_piece_is_left_out_nothing_later_and_less_important_skips_ahead():
    options = [Piece(f"{n}) " + "option " * (20 if n == 2 else 1), "\n", 2) for n in range(1, 5)]
    parts, left = fit([Piece("Choose:", priority=0)] + options, 1)
    kept = "\n".join(parts)
    assert "1) " in kept and "2) " not in kept and "3) " not in kept and "4) " not in kept
    story = [Piece("First.", priority=0), Piece("a" * 150 + "."), Piece("b" * 10 + "."), Piece("Lead.", priority=1)]
    parts, left = fit(story, 1)
    assert parts == ["First. Lead."] and [p.text[0] for p in left] == ["a", "b"]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=1200), st.integers(min_value=1, max_value=4))
def test_any_text_fits_the_part_budget_and_nothing_is_lost_or_invented(text, max_parts):
    pieces = [Piece(c) for s in sentences(text) for c in chunks(s)]
    parts, left = fit(pieces, max_parts) if pieces else ([], [])
    assert len(parts) <= max_parts
    assert all(segments(p) == 1 for p in parts)
    kept = [p for p in pieces if p not in left]
    assert "".join(parts).replace(" ", "") == "".join(p.text for p in kept).replace(" ", "")
