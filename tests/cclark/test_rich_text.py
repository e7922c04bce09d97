"""A rich-text post, as Feishu delivers it, read as the text its reader sees."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cclark.event_parsers import parse_message_event
from cclark.rich_text import post_text

PARAGRAPH = [{"tag": "text", "text": "Please fix ", "style": ["bold"]},
             {"tag": "a", "text": "this bug", "href": "https://example.com/issues/7"},
             {"tag": "text", "text": " today."}]  # fmt: skip
CODE = [{"tag": "code_block", "language": "PYTHON", "text": "print('hi')\n"}]


def _post(*paragraphs: list[dict[str, Any]], title: str = "") -> dict[str, Any]:
    return {"title": title, "content": list(paragraphs)}


def test_a_paragraph_a_code_block_and_a_link_read_as_markdown_text() -> None:
    text = post_text(_post(PARAGRAPH, CODE, title="Bug"))

    assert text == ("Bug\nPlease fix [this bug](https://example.com/issues/7) today.\n"
                    "```python\nprint('hi')\n```")  # fmt: skip


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        ([{"tag": "a", "text": "https://x.org", "href": "https://x.org"}], "https://x.org"),
        ([{"tag": "md", "text": "**bold** `code`"}], "**bold** `code`"),
        ([{"tag": "text", "text": "a"}, {"tag": "hr"}], "a---"),
        ([{"tag": "code_block", "text": "x = '```'"}], "````\nx = '```'\n````"),
        ([{"tag": "img", "image_key": "img_1"}], None),
        ([{"tag": "emotion", "emoji_type": "SMILE"}], None),
        ([{"tag": "unknown", "text": "?"}], None),
    ],
    ids=["bare-link", "markdown", "rule", "fence-in-code", "image-only", "emoji-only", "unknown"],
)
def test_inline_elements(elements: list[dict[str, Any]], expected: str | None) -> None:
    assert post_text(_post(elements)) == expected


@pytest.mark.parametrize("body", [None, "text", [], {"zh_cn": 3}, {"content": 5}, {}])
def test_what_is_not_a_post_has_no_text(body: object) -> None:
    assert post_text(body) is None


def test_a_post_built_for_sending_is_read_by_its_locale() -> None:
    body = {"zh_cn": {"title": "", "content": [PARAGRAPH]}}

    assert post_text(body) == "Please fix [this bug](https://example.com/issues/7) today."


def test_a_post_event_has_its_text_and_mentions_are_left_out() -> None:
    mention = {"tag": "at", "user_id": "@_user_1", "user_name": "cclark"}
    content = json.dumps(_post([mention, {"tag": "text", "text": " #status"}]))
    raw = {
        "schema": "2.0",
        "header": {"event_id": "ev", "event_type": "im.message.receive_v1",
                   "create_time": "1", "app_id": "cli_1"},
        "event": {"sender": {"sender_id": {"open_id": "ou_a"}, "sender_type": "user"},
                  "message": {"message_id": "om_1", "chat_id": "oc_1", "chat_type": "group",
                              "message_type": "post", "content": content,
                              "create_time": "1"}},
    }  # fmt: skip

    event = parse_message_event("main", raw)

    assert event is not None
    assert event.text == "#status"


_KEYS = st.sampled_from(["tag", "text", "href", "language", "content", "title", "zh_cn", "x"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=30,
)


@given(_JSON)
def test_any_json_reads_as_text_or_nothing_and_never_raises(body: object) -> None:
    text = post_text(body)

    assert text is None or (isinstance(text, str) and text.strip() == text and text)
