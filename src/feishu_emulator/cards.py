"""A shallow check of interactive card JSON (1.0 and 2.0), for the 230099 refusal.

Owns which shapes the emulator calls invalid: structure, known tags, header colours, nesting,
element count, shared-card flag. It does not check each component's full schema, so it
accepts some cards the real server rejects; it never rejects a card the reference allows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["card_problem", "is_shared_card"]

TEMPLATES = frozenset(
    {
        "blue", "wathet", "turquoise", "green", "yellow", "orange", "red",
        "carmine", "violet", "purple", "indigo", "grey", "default",
    }
)  # fmt: skip
# Containers hold "elements"; column_set holds "columns" of "column".
CONTAINERS = frozenset(
    {"column_set", "column", "collapsible_panel", "form", "interactive_container"}
)
V2_TAGS = CONTAINERS | frozenset(
    {
        "markdown", "div", "plain_text", "hr", "img", "img_combination", "button", "table",
        "chart", "person", "person_list", "avatar", "input", "overflow", "select_static",
        "multi_select_static", "select_person", "multi_select_person", "select_img",
        "date_picker", "picker_time", "picker_datetime", "checker", "audio", "text_tag",
    }
)  # fmt: skip
# JSON 2.0 dropped these 1.0 modules.
V1_ONLY_TAGS = frozenset({"action", "note"})
V1_TAGS = V2_TAGS | V1_ONLY_TAGS
PANEL_TITLE_TAGS = frozenset({"plain_text", "markdown"})
MAX_DEPTH = 5


def card_problem(content: str, *, max_elements: int = 200) -> str | None:
    """Why the card JSON is invalid, or None when it passes."""
    try:
        card = json.loads(content)
    except ValueError:
        return "card content is not JSON"
    if not isinstance(card, dict):
        return "card content is not a JSON object"
    if card.get("type") == "template":
        data = card.get("data")
        ok = isinstance(data, dict) and isinstance(data.get("template_id"), str)
        return None if ok else "template card needs data.template_id"
    if card.get("schema") == "2.0":
        return _v2_problem(card, max_elements)
    if "schema" in card:
        return f"unknown card schema {card['schema']!r}"
    return _v1_problem(card, max_elements)


def is_shared_card(content: str) -> bool:
    """Whether PATCH may update a card: 2.0 cards are shared; 1.0 needs update_multi."""
    card = json.loads(content)
    config = card.get("config") if isinstance(card, dict) else None
    multi = config.get("update_multi") if isinstance(config, dict) else None
    if isinstance(card, dict) and card.get("schema") == "2.0":
        return multi is not False
    return multi is True


def _v2_problem(card: Mapping[str, Any], max_elements: int) -> str | None:
    if "elements" in card:
        return "schema 2.0 cards put elements under body.elements"
    config = card.get("config", {})
    if not isinstance(config, dict):
        return "config must be an object"
    if config.get("update_multi") is False:
        return "schema 2.0 supports only config.update_multi=true"
    if problem := _header_problem(card.get("header")):
        return problem
    body = card.get("body", {})
    if not isinstance(body, dict):
        return "body must be an object"
    elements = body.get("elements", [])
    return _elements_problem(elements, V2_TAGS, max_elements)


def _v1_problem(card: Mapping[str, Any], max_elements: int) -> str | None:
    if "body" in card:
        return "a card without schema 2.0 cannot have a body"
    if problem := _header_problem(card.get("header")):
        return problem
    if "i18n_elements" in card:
        localized = card["i18n_elements"]
        if not isinstance(localized, dict):
            return "i18n_elements must be an object"
        for elements in localized.values():
            if problem := _elements_problem(elements, V1_TAGS, max_elements):
                return problem
        return None
    return _elements_problem(card.get("elements", []), V1_TAGS, max_elements)


def _header_problem(header: object) -> str | None:
    if header is None:
        return None
    if not isinstance(header, dict):
        return "header must be an object"
    template = header.get("template")
    if template is not None and template not in TEMPLATES:
        return f"unknown header template {template!r}"
    title = header.get("title")
    if title is not None and not (
        isinstance(title, dict) and isinstance(title.get("content"), str)
    ):
        return "header.title needs a content string"
    return None


def _elements_problem(elements: object, tags: frozenset[str], limit: int) -> str | None:
    if not isinstance(elements, list):
        return "elements must be a list"
    count = 0
    for element, depth, parent in _walk(elements, depth=1, parent=None):
        count += 1
        if problem := _element_problem(element, depth, parent, tags):
            return problem
    if count > limit:
        return f"card has {count} elements, more than {limit}"
    return None


def _element_problem(
    element: object, depth: int, parent: str | None, tags: frozenset[str]
) -> str | None:
    if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
        return "every element must be an object with a tag"
    tag = element["tag"]
    if tag not in tags:
        return f"element tag {tag!r} is not supported" + (
            " in schema 2.0" if tag in V1_ONLY_TAGS else ""
        )
    if depth > MAX_DEPTH:
        return f"components nest deeper than {MAX_DEPTH} levels"
    if tag == "markdown" and not isinstance(element.get("content"), str):
        return "markdown needs a content string"
    if parent == "column" and tag in {"table", "form"}:
        return f"a column cannot contain {tag}"
    if parent == "collapsible_panel" and tag == "form":
        return "a collapsible_panel cannot contain a form"
    if tag == "collapsible_panel":
        return _panel_problem(element)
    return None


def _panel_problem(panel: Mapping[str, Any]) -> str | None:
    header = panel.get("header", {})
    if not isinstance(header, dict):
        return "collapsible_panel header must be an object"
    title = header.get("title", {})
    if isinstance(title, dict) and title.get("tag", "plain_text") not in PANEL_TITLE_TAGS:
        return "collapsible_panel header.title.tag must be plain_text or markdown"
    padding = header.get("padding")
    if isinstance(padding, str) and len(padding.split()) not in (1, 4):
        return "invalid panel header padding"
    return None


def _walk(
    elements: list[Any], *, depth: int, parent: str | None
) -> Iterator[tuple[Any, int, str | None]]:
    for element in elements:
        yield element, depth, parent
        if not isinstance(element, dict) or element.get("tag") not in CONTAINERS:
            continue
        tag = element["tag"]
        children = element.get("columns" if tag == "column_set" else "elements", [])
        if isinstance(children, list):
            yield from _walk(children, depth=depth + 1, parent=tag)
