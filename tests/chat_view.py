"""What a person sees of cclark's cards: their text (panels included) and header colour."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

__all__ = ["QUESTION_TITLES", "buttons", "card_text", "colour", "question_text"]

# The titles of the cards on which the bot itself asks something (#new steps, the session list,
# #ask's confirmations).
QUESTION_TITLES = ("New session", "Sessions", "Please confirm")


def card_text(card: Mapping[str, Any]) -> str:
    """Everything a reader sees on a card, panels included, one element per line."""
    lines = [card["header"]["title"]["content"]]

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("tag") == "collapsible_panel":
                lines.append(element["header"]["title"]["content"])
                walk(element.get("elements", []))
            elif element.get("tag") == "column_set":
                for column in element.get("columns", []):
                    walk(column.get("elements", []))
            elif "content" in element:
                lines.append(element["content"])
            elif isinstance(element.get("text"), dict):
                lines.append(element["text"].get("content", ""))

    walk(card["body"]["elements"])
    return "\n".join(lines)


def colour(card: Mapping[str, Any]) -> str:
    """The header's colour template: blue (working), green (done), orange (a prompt), ..."""
    return str(card["header"]["template"])


def question_text(card: Mapping[str, Any]) -> str | None:
    """The text of a card on which the bot asks something (what a typed answer reads), or
    None for any other card."""
    if card.get("header", {}).get("title", {}).get("content") not in QUESTION_TITLES:
        return None
    first = card["body"]["elements"][0]
    return html.unescape(str(first["content"]))  # "&#60;" shows as "<"


def buttons(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's buttons: label -> the value a tap sends."""
    found: dict[str, dict[str, Any]] = {}

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("tag") == "button":
                value = element["behaviors"][0]["value"]
                found[element["text"]["content"]] = value
            for column in element.get("columns", []):
                walk(column.get("elements", []))
            walk(element.get("elements", []))

    walk(card["body"]["elements"])
    return found
