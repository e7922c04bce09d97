"""#new's options: --idle and --timeout before the text, each refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cclark.handlers.new_options import NewOptions, parse_new_options


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("", NewOptions()),
        ("fix the tests", NewOptions(text="fix the tests")),
        ("--idle 600 fix it", NewOptions(idle=600, text="fix it")),
        ("--idle=10m --timeout 2h", NewOptions(idle=600, timeout=7200)),
        ("--timeout 90s --idle off go", NewOptions(idle=0, timeout=90, text="go")),
        ("--IDLE 1d  two  spaces\nline", NewOptions(idle=86400, text="two  spaces\nline")),
        ("--idle 0", NewOptions(idle=0)),
        ("text --idle 5 stays text", NewOptions(text="text --idle 5 stays text")),
    ],
)
def test_options_come_first_and_the_rest_is_the_text(argument: str, expected: NewOptions) -> None:
    assert parse_new_options(argument) == expected


@pytest.mark.parametrize(
    ("argument", "why"),
    [
        ("--idle", "--idle needs a duration."),
        ("--idle soon go", "--idle 'soon': not a duration."),
        ("--timeout -5", "--timeout '-5': not a duration."),
        ("--timeout 1.5h", "--timeout '1.5h': not a duration."),
        ("--idle 31d", "--idle '31d': longer than 30 days."),
        ("--idle= go", "--idle '': not a duration."),
        ("--idle 5 --idle 6", "--idle is given twice."),
        ("--yolo fix", "Unknown option '--yolo'."),
        ("-- fix", "Unknown option '--'."),
    ],
)
def test_a_malformed_option_is_refused_saying_what_to_send(argument: str, why: str) -> None:
    answer = parse_new_options(argument)

    assert isinstance(answer, str)
    assert answer.startswith(why)
    assert answer.endswith("0 or off for no limit.")


@given(st.text())
def test_any_text_is_read_or_refused_without_raising(argument: str) -> None:
    answer = parse_new_options(argument)

    assert isinstance(answer, (NewOptions, str))
