"""What a person sees of cclark's cards: their text (panels included) and header colour."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["card_text", "colour"]


def card_text(card: Mapping[str, Any]) -> str:
    """Everything a reader sees on a card, panels included, one element per line."""
    lines = [card["header"]["title"]["content"]]

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element.get("tag") == "collapsible_panel":
                lines.append(element["header"]["title"]["content"])
                walk(element.get("elements", []))
            elif "content" in element:
                lines.append(element["content"])
            elif isinstance(element.get("text"), dict):
                lines.append(element["text"].get("content", ""))

    walk(card["body"]["elements"])
    return "\n".join(lines)


def colour(card: Mapping[str, Any]) -> str:
    """The header's colour template: blue (working), green (done), orange (a prompt), ..."""
    return str(card["header"]["template"])
