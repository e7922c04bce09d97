"""Card JSON 2.0 primitives, what a card costs on the wire, and the markdown escaping rules.

Owns the shapes of the elements cclark draws (card with header, markdown, collapsible panel,
note line, code block), the byte measure behind the 30 KB limit, and how text is made safe for
a Feishu markdown element. Knows nothing of turns, prompts or sending.

Escaping rules. A card's markdown element is CommonMark plus HTML-like Feishu tags (``<at>``,
``<font>``, ``<text_tag>``, ``<link>``, ``<local_datetime>``, ``<br>``, ``<hr>``). Text we did
not write can break a card in these ways, and each has one rule here:

* a tag: ``<at id=all></at>`` would ping the whole chat and an unclosed ``<font>`` restyles the
  rest. Every ``<`` outside code becomes ``&#60;`` (``>`` becomes ``&#62;`` in literal text);
* a code fence: an unclosed fence swallows the rest of the element, and a fence line inside our
  own code block closes it early. Agent markdown gets unclosed fences closed; literal text and
  code-block bodies get a zero-width space before any line that would open or close a fence;
* invisible characters: ANSI colour sequences are removed and other control characters (not
  newline or tab) become U+FFFD, so no character costs more than 4 bytes on the wire;
* quotes and backslashes are left to ``json.dumps``;
* header titles and panel titles are ``plain_text`` and need no escaping.
Backslash escapes are not used: Lark markdown has been seen to render an unneeded backslash
literally (larksuite/cli#155), and HTML entities survive either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final, Literal

__all__ = [
    "CARD_LIMIT_BYTES",
    "MARKDOWN_ELEMENT_BYTES",
    "SAFE_CARD_BYTES",
    "CardJson",
    "Element",
    "HeaderTemplate",
    "card",
    "card_bytes",
    "clean_text",
    "code_block",
    "escape_markdown",
    "markdown",
    "note",
    "panel",
    "sanitize_markdown",
    "utf8_len",
    "wire_bytes",
]

CardJson = dict[str, Any]
Element = dict[str, Any]
TextSize = Literal["notation", "normal", "heading"]

CARD_LIMIT_BYTES: Final = 30 * 1024
"""Feishu refuses a card whose request body is larger (error 230025)."""

SAFE_CARD_BYTES: Final = 25_000
"""What cclark lets a card cost (wire_bytes): room for the request's other fields and slack."""

MARKDOWN_ELEMENT_BYTES: Final = 4_000
"""UTF-8 bytes per markdown element; Feishu silently cuts long elements (~5-10 K chars)."""

_ANSI: Final = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FENCE_LINE: Final = re.compile(r"^( {0,3})(`{3,}|~{3,})", re.MULTILINE)
_OPENING_FENCE: Final = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_CODE_SPAN: Final = re.compile(r"(`+)(?:(?!\1).)+?\1")
_ZWSP: Final = "\u200b"


class HeaderTemplate(StrEnum):
    """The header colours card JSON 2.0 accepts."""

    BLUE = "blue"
    WATHET = "wathet"
    TURQUOISE = "turquoise"
    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"
    CARMINE = "carmine"
    VIOLET = "violet"
    PURPLE = "purple"
    INDIGO = "indigo"
    GREY = "grey"
    DEFAULT = "default"


def card(
    *,
    title: str,
    template: HeaderTemplate,
    elements: Sequence[Element],
    subtitle: str = "",
    summary: str = "",
    streaming: bool | None = None,
) -> CardJson:
    """A schema 2.0 card (shared, so it can be patched) with a plain-text header; streaming
    (True or False) makes it a card that is streamed while True (see cclark.card_streams)."""
    header: dict[str, Any] = {
        "title": {"tag": "plain_text", "content": title},
        "template": template.value,
    }
    if subtitle:
        header["subtitle"] = {"tag": "plain_text", "content": subtitle}
    config: dict[str, Any] = {"update_multi": True}
    if summary:
        config["summary"] = {"content": summary}
    if streaming is not None:
        config["streaming_mode"] = streaming
    return {
        "schema": "2.0",
        "config": config,
        "header": header,
        "body": {"elements": list(elements)},
    }


def markdown(content: str, *, text_size: TextSize = "normal") -> Element:
    """A markdown element; content must already be escaped or sanitised."""
    return {"tag": "markdown", "content": content, "text_size": text_size}


def note(content: str) -> Element:
    """A small grey footer line (2.0 has no ``note`` tag); content is markdown."""
    return markdown(f"<font color='grey'>{content}</font>", text_size="notation")


def panel(title: str, elements: Sequence[Element], *, expanded: bool = False) -> Element:
    """A collapsible panel with a plain-text title, collapsed unless expanded."""
    return {
        "tag": "collapsible_panel",
        "expanded": expanded,
        "header": {
            "title": {"tag": "plain_text", "content": title},
            "icon": {"tag": "standard_icon", "token": "down-small-ccm_outlined"},
            "icon_position": "right",
            "icon_expanded_angle": -180,
        },
        "border": {"color": "grey", "corner_radius": "5px"},
        "elements": list(elements),
    }


def code_block(text: str, *, language: str = "") -> str:
    """A fenced code block showing text verbatim; no line of text can close it."""
    body = _FENCE_LINE.sub(lambda m: m[1] + _ZWSP + m[2], clean_text(text).strip("\n"))
    return f"```{language}\n{body}\n```"


def card_bytes(value: CardJson) -> int:
    """UTF-8 bytes of the card's content string, serialised as the REST client does."""
    return utf8_len(json.dumps(value, ensure_ascii=False))


def wire_bytes(value: object) -> int:
    """Bytes value adds to a request body as (part of) the JSON-string ``content`` field.

    The content is JSON inside a JSON string, so quotes and backslashes cost 4 bytes and a
    newline 3. This is what Feishu's 30 KB limit counts; it is additive over the elements of a
    list, plus 2 bytes per ``, `` between them.
    """
    inner = json.dumps(value, ensure_ascii=False)
    return utf8_len(json.dumps(inner, ensure_ascii=False)) - 2


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def clean_text(text: str) -> str:
    """Text without ANSI sequences, CRs or control characters other than newline and tab."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)


def escape_markdown(text: str) -> str:
    """Markdown that shows text as it is: no tags, no fences, no blockquotes."""
    text = clean_text(text).replace("<", "&#60;").replace(">", "&#62;")
    return _FENCE_LINE.sub(lambda m: m[1] + _ZWSP + m[2], text)


def sanitize_markdown(text: str) -> str:
    """Agent markdown that keeps its formatting but cannot break out of its element.

    Outside fenced blocks and code spans every ``<`` becomes ``&#60;``; a fence left open at the
    end is closed. Code is left verbatim (it renders literally).
    """
    out: list[str] = []
    fence: str | None = None  # the characters that close the open fence
    for line in clean_text(text).split("\n"):
        if fence is not None:
            out.append(line)
            if _closes(line, fence):
                fence = None
            continue
        opening = _OPENING_FENCE.fullmatch(line)
        if opening and not (opening[1][0] == "`" and "`" in opening[2]):
            fence = opening[1]
            out.append(line)
            continue
        out.append(_escape_tags_outside_code(line))
    if fence is not None:
        out.append(fence)
    return "\n".join(out)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    indent = len(line) - len(line.lstrip(" "))
    return indent <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _escape_tags_outside_code(line: str) -> str:
    parts: list[str] = []
    start = 0
    for span in _CODE_SPAN.finditer(line):
        parts.append(line[start : span.start()].replace("<", "&#60;"))
        parts.append(span[0])
        start = span.end()
    parts.append(line[start:].replace("<", "&#60;"))
    return "".join(parts)
