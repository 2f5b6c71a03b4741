"""Prompt normalisation, splitting and parameter validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.midjourney.prompt import (
    MAX_MODAL_PROMPT_LENGTH,
    MAX_PROMPT_LENGTH,
    check_prompt,
    normalize_prompt,
    split_prompt,
)


def test_normalize() -> None:
    assert normalize_prompt("  a  cat\n\t—ar 16:9 ") == "a cat --ar 16:9"
    assert normalize_prompt("a cat \u2013v 6") == "a cat --v 6"
    assert normalize_prompt("years 1990\u20132000") == "years 1990\u20132000"  # a real en dash stays
    assert normalize_prompt("a\u00a0cat") == "a cat"


@given(st.text(max_size=200))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_prompt(text)
    assert normalize_prompt(once) == once


@given(st.text(max_size=200))
def test_check_never_raises_and_is_stable(text: str) -> None:
    result = check_prompt(text)
    assert result.normalized == normalize_prompt(text)
    assert check_prompt(result.normalized).errors == result.errors


def test_split() -> None:
    parts = split_prompt("<https://s.mj.run/a> https://x.test/b.png a red fox —ar 3:2 --no trees, snow --tile --V 6.1")
    assert parts.image_urls == ("https://s.mj.run/a", "https://x.test/b.png")
    assert parts.text == "a red fox"
    assert [(p.name, p.alias, p.value) for p in parts.params] == [
        ("aspect", "ar", "3:2"),
        ("no", "no", "trees, snow"),
        ("tile", "tile", None),
        ("version", "V", "6.1"),
    ]
    assert parts.get("aspect") is not None
    assert parts.get("seed") is None
    assert split_prompt("a -- b c--d").params == ()


@pytest.mark.parametrize(
    "prompt",
    [
        "a cat",
        "a cat --ar 16:9 --v 6.1 --s 750 --c 20 --seed 4294967295 --stop 10 --w 3000 --q .5 --iw 2.5",
        "a cat --niji 6 --style cute",
        "a cat --niji",
        "a cat --style raw --tile --r 4 --relax",
        "a cat --sref https://x.test/a.png 1234::2 random --sw 500 --sv 4",
        "a cat --cref https://x.test/a.png --cw 0",
        "a cat --no red, green --chaos 0 --stylize 0 --weird 0",
        "<https://s.mj.run/a> <https://s.mj.run/b>",
        "a cat --p --exp 25 --draft --raw",
        "a cat --p abc123",
    ],
)
def test_valid_prompts(prompt: str) -> None:
    result = check_prompt(prompt)
    assert result.ok, result.errors


@pytest.mark.parametrize(
    ("prompt", "code", "parameter"),
    [
        ("", "empty_prompt", None),
        ("   ", "empty_prompt", None),
        ("--ar 2:3", "empty_prompt", None),
        ("a cat --ar 1.5:1", "invalid_value", "aspect"),
        ("a cat --ar 0:1", "invalid_value", "aspect"),
        ("a cat --ar", "missing_value", "aspect"),
        ("a cat --v 4.5", "invalid_value", "version"),
        ("a cat --niji 3", "invalid_value", "niji"),
        ("a cat --q 5", "out_of_range", "quality"),
        ("a cat --q high", "invalid_value", "quality"),
        ("a cat --s 1001", "out_of_range", "stylize"),
        ("a cat --stylize -1", "out_of_range", "stylize"),
        ("a cat --c 101", "out_of_range", "chaos"),
        ("a cat --chaos 2.5", "invalid_value", "chaos"),
        ("a cat --seed 4294967296", "out_of_range", "seed"),
        ("a cat --stop 9", "out_of_range", "stop"),
        ("a cat --w 3001", "out_of_range", "weird"),
        ("a cat --iw 3.5", "out_of_range", "iw"),
        ("a cat --r 41", "out_of_range", "repeat"),
        ("a cat --style vivid", "invalid_value", "style"),
        ("a cat --tile please", "unexpected_value", "tile"),
        ("a cat --no", "missing_value", "no"),
        ("a cat --sref not/a/url", "invalid_url", "sref"),
        ("a cat --foo 1", "unknown_parameter", "foo"),
        ("a cat --v 6 --niji 6", "conflicting_parameters", "version"),
        ("a cat --fast --relax", "conflicting_parameters", "fast"),
    ],
)
def test_invalid_prompts(prompt: str, code: str, parameter: str | None) -> None:
    result = check_prompt(prompt)
    assert not result.ok
    assert any(e.code == code and e.parameter == parameter for e in result.errors), result.errors
    assert all(e.message for e in result.errors)


def test_length_limits() -> None:
    assert MAX_PROMPT_LENGTH == 6000 and MAX_MODAL_PROMPT_LENGTH == 4000
    assert check_prompt("a" * MAX_PROMPT_LENGTH).ok
    too_long = check_prompt("a" * (MAX_PROMPT_LENGTH + 1))
    assert [e.code for e in too_long.errors] == ["prompt_too_long"]
    assert not check_prompt("a" * 4001, max_length=MAX_MODAL_PROMPT_LENGTH).ok


def test_warnings_do_not_reject() -> None:
    result = check_prompt("a cat --q .75 --ar 1:1 --ar 2:3 --hd")
    assert result.ok
    assert {w.code for w in result.warnings} == {"unusual_value", "duplicate_parameter", "legacy_parameter"}
    assert result.aspect_ratio == (2, 3)  # the last one wins
    lone_image = check_prompt("https://x.test/a.png")
    assert lone_image.ok and [w.code for w in lone_image.warnings] == ["image_needs_text"]


def test_derived_fields() -> None:
    result = check_prompt("a cat --turbo --niji 6 --ar 16:9")
    assert (result.requested_mode, result.niji, result.aspect_ratio) == ("turbo", True, (16, 9))
    plain = check_prompt("a cat")
    assert (plain.requested_mode, plain.niji, plain.aspect_ratio) == (None, False, (1, 1))


_WORDS = st.sampled_from(
    [
        "--ar",
        "--v",
        "--niji",
        "--s",
        "--seed",
        "--no",
        "--sref",
        "--tile",
        "—q",
        "\u2013c",
        "16:9",
        "0:0",
        "6.1",
        "-5",
        ".5",
        "1e9",
        "99999999999999",
        "https://x.test/a.png",
        "<https://s.mj.run/x>",
        "cat",
        "::2",
        "--",
        "--Foo",
    ]
)


@given(st.lists(_WORDS | st.text(max_size=8), max_size=12).map(" ".join))
def test_prompt_like_input_never_raises(text: str) -> None:
    result = check_prompt(text)
    assert all(issue.code and issue.message for issue in (*result.errors, *result.warnings))
    assert result.aspect_ratio[0] > 0 and result.aspect_ratio[1] > 0


@pytest.mark.parametrize(
    ("prompt", "shown"),
    [("a cat\x00", "U+0000"), ("a \u202ecat", "U+202E"), ("a \u2066cat\u2069", "U+2066"), ("a\x1bcat", "U+001B")],
)
def test_control_and_bidi_characters_are_refused(prompt: str, shown: str) -> None:
    result = check_prompt(prompt)
    assert not result.ok
    [error] = [e for e in result.errors if e.code == "control_characters"]
    assert shown in error.message


def test_zero_width_characters_are_removed_with_a_warning_but_emoji_joiners_stay() -> None:
    result = check_prompt("a\u200b cat\ufeff 👩\u200d🚀")
    assert result.ok
    assert result.normalized == "a cat 👩\u200d🚀"
    assert [w.code for w in result.warnings] == ["invisible_characters_removed"]
    assert check_prompt("tabs\tand\nnewlines are whitespace").ok
