"""Key names and the text delivery plan."""

from __future__ import annotations

import pytest

from unified_icc import InputRejectedError
from unified_icc.tmux import DeliveryMethod, normalise_key, plan_text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Enter", ("Enter", False)),
        ("escape", ("Escape", False)),
        ("esc", ("Escape", False)),
        ("ctrl-c", ("C-c", False)),
        ("C-C", ("C-c", False)),
        ("shift-tab", ("BTab", False)),
        ("3", ("3", True)),
        ("y", ("y", True)),
    ],
)
def test_normalise_key_accepts_names_aliases_and_single_characters(
    name: str, expected: tuple[str, bool]
) -> None:
    assert normalise_key(name) == expected


@pytest.mark.parametrize("name", ["", "Hyper-x", "C-", "12", "rm -rf"])
def test_normalise_key_refuses_anything_else(name: str) -> None:
    with pytest.raises(InputRejectedError, match="unknown key"):
        normalise_key(name)


def test_short_single_line_text_is_typed_and_the_rest_is_pasted() -> None:
    assert plan_text("hello", max_chars=100).method is DeliveryMethod.LITERAL
    assert plan_text("a\nb", max_chars=100).method is DeliveryMethod.PASTE
    assert plan_text("x" * 201, max_chars=1000).method is DeliveryMethod.PASTE


def test_windows_line_endings_become_newlines() -> None:
    assert plan_text("a\r\nb\rc", max_chars=100).text == "a\nb\nc"


def test_text_with_half_a_character_is_refused_before_tmux_sees_it() -> None:
    with pytest.raises(InputRejectedError, match="not valid Unicode"):
        plan_text("ok \ud800", max_chars=100)
