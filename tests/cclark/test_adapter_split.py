"""Splitting long text for Feishu: paragraph and fence boundaries, numbering, UTF-8 bytes."""

from __future__ import annotations

import random
import re

import pytest

from cclark.adapter import split_text

LIMIT = 400
LABEL = re.compile(r"\A\((\d+)/(\d+)\)\n")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _bodies(parts: list[str]) -> list[str]:
    """The parts without their (i/n) labels, checking the labels count 1..n."""
    if len(parts) == 1:
        return parts
    bodies = []
    for index, part in enumerate(parts, start=1):
        label = LABEL.match(part)
        assert label is not None, part[:20]
        assert (int(label[1]), int(label[2])) == (index, len(parts))
        bodies.append(part[label.end() :])
    return bodies


def _fence_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.lstrip().startswith("```")]


def _assert_well_formed(parts: list[str], limit: int) -> None:
    for part in parts:
        assert _size(part) <= limit
        assert len(_fence_lines(part)) % 2 == 0, part  # every fence opened in a part closes


def test_text_that_fits_is_one_unlabelled_part() -> None:
    assert split_text("short\n\ntext", limit_bytes=LIMIT) == ["short\n\ntext"]


def test_paragraphs_are_cut_only_between_paragraphs() -> None:
    paragraphs = [f"paragraph {i}: " + "word " * 12 for i in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)

    parts = split_text(text, limit_bytes=LIMIT)

    bodies = _bodies(parts)
    assert len(parts) > 2
    _assert_well_formed(parts, LIMIT)
    assert all(body.endswith("\n\n") for body in bodies[:-1])
    assert "".join(bodies) == text


def test_fenced_block_is_kept_whole_in_one_part() -> None:
    fence = "```python\n" + "".join(f"x_{i} = {i}\n" for i in range(20)) + "```\n"
    text = "intro " * 40 + "\n\n" + fence + "\noutro " * 10

    parts = split_text(text, limit_bytes=LIMIT)

    holders = [body for body in _bodies(parts) if "```python" in body]
    assert len(holders) == 1
    assert fence in holders[0]
    _assert_well_formed(parts, LIMIT)
    assert "".join(_bodies(parts)) == text


def test_oversized_fence_is_closed_and_reopened_with_its_language() -> None:
    body = "".join(f"print('line {i:03}')\n" for i in range(80))
    text = "Here is the log:\n\n```python\n" + body + "```\n\nThat is all."

    parts = split_text(text, limit_bytes=LIMIT)

    bodies = _bodies(parts)
    _assert_well_formed(parts, LIMIT)
    inner = [b for b in bodies if "print(" in b]
    assert len(inner) > 2
    assert all(b.startswith("```python\n") for b in inner[1:])
    assert all(b.endswith("```\n") for b in inner[:-1])
    assert "".join(bodies).replace("```\n```python\n", "") == text


def test_overlong_line_inside_a_fence_is_cut_and_the_fence_closed() -> None:
    text = "```json\n" + '{"k": "' + "v" * 1500 + '"}\n```'

    parts = split_text(text, limit_bytes=LIMIT)

    _assert_well_formed(parts, LIMIT)
    joined = "".join(_bodies(parts))
    assert re.sub(r"\n?```\n```json\n", "", joined) == text


def test_cjk_text_is_measured_in_utf8_bytes() -> None:
    sentence = "这是一个很长的中文句子用来测试按字节切分。"
    text = "\n\n".join(sentence * 3 for _ in range(20))

    parts = split_text(text, limit_bytes=LIMIT)

    assert len(text) < LIMIT * 20
    assert all(_size(part) <= LIMIT for part in parts)
    assert len(parts) >= _size(text) // LIMIT
    assert "".join(_bodies(parts)) == text


def test_a_line_without_spaces_is_cut_at_character_boundaries() -> None:
    text = "界" * 500 + "🙂" * 100

    parts = split_text(text, limit_bytes=LIMIT)

    assert all(_size(part) <= LIMIT for part in parts)
    assert "".join(_bodies(parts)) == text


def test_a_long_sentence_is_cut_at_a_space() -> None:
    text = " ".join(f"w{i:04}" for i in range(300))

    parts = split_text(text, limit_bytes=LIMIT)

    bodies = _bodies(parts)
    assert all(body.endswith(" ") for body in bodies[:-1])
    assert "".join(bodies) == text


def test_numbering_counts_every_part() -> None:
    text = "\n\n".join("p" * 100 for _ in range(30))

    parts = split_text(text, limit_bytes=LIMIT)

    assert [LABEL.match(p)[0] for p in parts] == [
        f"({i}/{len(parts)})\n" for i in range(1, len(parts) + 1)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_nothing_is_lost_in_mixed_text(seed: int) -> None:
    rng = random.Random(seed)
    blocks = []
    for _ in range(rng.randint(5, 25)):
        if rng.random() < 0.3:
            lines = "".join(f"code {rng.random():.6f} 代码\n" for _ in range(rng.randint(1, 40)))
            blocks.append(f"```{rng.choice(['', 'sh', 'python'])}\n{lines}```")
        else:
            blocks.append(
                " ".join(rng.choice(["alpha", "测试", "béta", "x" * 30]) for _ in range(40))
            )
    text = "\n\n".join(blocks)

    parts = split_text(text, limit_bytes=LIMIT)

    _assert_well_formed(parts, LIMIT)
    joined = "".join(_bodies(parts))
    assert re.sub(r"```\n```(?:sh|python)?\n", "", joined) == text


def test_limit_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        split_text("x" * 1000, limit_bytes=10)
