"""The card that tells a chat its agent's model API refused a turn: what, until when, what next.

Owns the title, colour and advice per ApiProblem and how a reset time is read from the CLI's
words. Pure: the relay decides when it is sent (once per refusal) and where.
"""

from __future__ import annotations

import re
from typing import Final

from cclark.cards.elements import CardJson, HeaderTemplate, card, escape_markdown, markdown, note
from unified_icc import ApiProblem

__all__ = ["api_problem_card", "reset_time"]

_TITLES: Final = {
    ApiProblem.RATE_LIMIT: "⏳ Rate limited",
    ApiProblem.USAGE_LIMIT: "🚫 Usage limit reached",
    ApiProblem.AUTH: "🔑 Not signed in to the model API",
    ApiProblem.OVERLOADED: "🔥 Model API overloaded",
    ApiProblem.OTHER: "⚠️ Model API error",
}
_ADVICE: Final = {
    ApiProblem.RATE_LIMIT: "Too many requests for now. Wait a minute, then send your message "
                           "again.",
    ApiProblem.USAGE_LIMIT: "The account's usage limit is spent. Send your message again once "
                            "it resets, or switch the CLI to another account or key.",
    ApiProblem.AUTH: "The CLI's credentials were refused or are missing. Sign in again in the "
                     "terminal (e.g. `/login` in Claude), or fix the key in "
                     "`providers.<name>.env`, then send your message again.",
    ApiProblem.OVERLOADED: "The provider's servers are overloaded (your quota is fine). Try "
                           "again in a minute.",
    ApiProblem.OTHER: "The model API refused the request. Look at the terminal (#screenshot) "
                      "for details, then send your message again.",
}  # fmt: skip
_TEMPLATES: Final = {ApiProblem.AUTH: HeaderTemplate.RED, ApiProblem.OTHER: HeaderTemplate.RED}
_RESET: Final = re.compile(
    r"\b(?:resets?|reset after|try again|retry|available again)\s+"
    r"(?P<when>(?:(?:at|in|after|on)\s+)?[^·\n]*?\d[^·\n]*?)(?=\.(?:\s|$)|\s*·|\n|$)",
    re.IGNORECASE,
)


def reset_time(words: str) -> str | None:
    """When the CLI says the limit resets or to try again (``at 3pm``, ``in 2 hours``)."""
    found = _RESET.search(words)
    return found["when"].strip().rstrip(",;:") if found else None


def api_problem_card(problem: ApiProblem, words: str, *, title: str) -> CardJson:
    """``title`` is the session's (``claude · app``); ``words`` what the CLI said."""
    heading = f"{_TITLES[problem]} · {title}"
    elements = [markdown(f"> {escape_markdown(' '.join(words.split()))}")]
    when = reset_time(words)
    if when is not None:
        elements.append(markdown(f"**Resets:** {escape_markdown(when)}"))
    elements.append(note(_ADVICE[problem]))
    template = _TEMPLATES.get(problem, HeaderTemplate.ORANGE)
    return card(title=heading, template=template, elements=elements, summary=heading)
