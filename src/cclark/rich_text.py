"""A Feishu rich-text (``post``) message read as the text its reader sees.

Owns the reading: the title, then each paragraph's inline elements in order (text, a link as
``[text](url)``, markdown as written, a rule as ``---``), a code block as a fenced block with
its language; @mentions are left out, as in text messages (the caller tidies the rest). Images
and media carry no text; post_resources lists them. Pure: no I/O (the caller parses the
content's JSON).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

__all__ = ["post_resources", "post_text"]

# Feishu sends a received post bare ({"title", "content"}); one built for sending is keyed
# by locale. Both are read.
_LOCALES: Final = ("zh_cn", "en_us", "ja_jp")


def post_text(body: object) -> str | None:
    """The text of a post's parsed content; None when it is not a post or holds no text."""
    post = _post(body)
    if post is None:
        return None
    title = post.get("title")
    blocks = [title.strip()] if isinstance(title, str) and title.strip() else []
    paragraphs = post.get("content")
    if isinstance(paragraphs, list):
        blocks += [b for p in paragraphs if isinstance(p, list) for b in _paragraph(p)]
    text = "\n".join(blocks).strip()
    return text or None


def post_resources(body: object) -> tuple[tuple[str, str], ...]:
    """The images and videos of a post's parsed content, in order: ("image", image_key) for
    each img, ("file", file_key) for each media element."""
    post = _post(body)
    paragraphs = post.get("content") if post is not None else None
    if not isinstance(paragraphs, list):
        return ()
    found: list[tuple[str, str]] = []
    for element in (e for p in paragraphs if isinstance(p, list) for e in p):
        if not isinstance(element, dict):
            continue
        tag = element.get("tag")
        key = element.get("image_key") if tag == "img" else element.get("file_key")
        if tag in ("img", "media") and isinstance(key, str) and key:
            found.append(("image" if tag == "img" else "file", key))
    return tuple(found)


def _post(body: object) -> Mapping[str, Any] | None:
    if not isinstance(body, dict):
        return None
    if "content" in body or "title" in body:
        return body
    localized = next((body[k] for k in _LOCALES if isinstance(body.get(k), dict)), None)
    return localized if isinstance(localized, dict) else None


def _paragraph(elements: list[Any]) -> Iterator[str]:
    """The paragraph's line of inline text; each code block as a fenced block of its own."""
    line = ""
    for element in elements:
        if not isinstance(element, dict):
            continue
        if element.get("tag") == "code_block":
            if line.strip():
                yield line
            line = ""
            yield _fenced(element)
        else:
            line += _inline(element)
    if line.strip():
        yield line


def _inline(element: Mapping[str, Any]) -> str:
    tag, text = element.get("tag"), element.get("text")
    text = text if isinstance(text, str) else ""
    if tag in ("text", "md"):
        return text
    if tag == "a":
        href = element.get("href")
        if not isinstance(href, str) or not href:
            return text
        return href if text in ("", href) else f"[{text}]({href})"
    if tag == "hr":
        return "---"
    return ""  # at (left out, as in text messages), img, media, emotion


def _fenced(element: Mapping[str, Any]) -> str:
    language = element.get("language")
    language = language.lower() if isinstance(language, str) else ""
    code = element.get("text")
    code = code.rstrip("\n") if isinstance(code, str) else ""
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language}\n{code}\n{fence}"
