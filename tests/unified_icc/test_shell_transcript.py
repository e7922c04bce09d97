"""A shell's piped output as chat messages: readable lines, and each submission a new turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from unified_icc import MessageKind, MessageRole
from unified_icc.transcripts import ShellParser, append_input_marker, clean_terminal_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain\r\n", "plain"),
        ("\x1b[1;31mred\x1b[0m and \x1b[38;2;1;2;3mtrue colour\x1b[m\r\n", "red and true colour"),
        ("\x1b]0;user@host: ~\x07$ ls\r\n", "$ ls"),
        ("progress 10%\rprogress 100%\r\n", "progress 100%"),
        ("abc\b\bX\r\n", "aX"),
        ("\x1b[?2004hbracketed\x1b[?2004l\r\n", "bracketed"),
        ("tab\tkept\x07\x00\r\n", "tab\tkept"),
    ],
)
def test_a_terminal_line_is_cleaned_to_what_a_reader_would_see(raw: str, shown: str) -> None:
    assert clean_terminal_line(raw) == shown


def test_the_input_marker_is_the_persons_turn_and_drops_the_prompt_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shell.out"
    path.write_text("$ ")
    append_input_marker(path, "echo 'hi there'")
    with path.open("a") as handle:
        handle.write("echo 'hi there'\r\nhi there\r\nhi there\r\n")
    parser = ShellParser()

    messages = [m for line in path.read_text().splitlines() for m in parser.parse(line)]

    assert [(m.role, m.kind, m.text) for m in messages] == [
        (MessageRole.USER, MessageKind.TEXT, "echo 'hi there'"),
        (MessageRole.ASSISTANT, MessageKind.OUTPUT, "echo 'hi there'"),
        (MessageRole.ASSISTANT, MessageKind.OUTPUT, "hi there"),
        (MessageRole.ASSISTANT, MessageKind.OUTPUT, "hi there"),
    ]
    assert len({m.id for m in messages}) == 4  # a repeated line is still new output
