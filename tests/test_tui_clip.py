"""The live view never wraps a line: lines are cut to the terminal width, colour codes not counted."""

from station.tui import _clip


def test_plain_line_is_cut_to_the_width():
    assert _clip("abcdef", 3) == "abc"
    assert _clip("abc", 10) == "abc"


def test_colour_codes_do_not_count_and_colour_is_reset_after_a_cut():
    line = "ab\x1b[31mcdef\x1b[0mgh"
    assert _clip(line, 10) == line
    assert _clip(line, 4) == "ab\x1b[31mcd\x1b[0m"
    assert _clip(line, 2) == "ab\x1b[31m\x1b[0m"
