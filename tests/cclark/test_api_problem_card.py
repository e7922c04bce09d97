"""The card of a refused model request: its title and colour per problem, the reset, advice."""

from __future__ import annotations

import pytest

from cclark.cards.api_problem_card import api_problem_card, reset_time
from chat_view import card_text, colour
from unified_icc import ApiProblem


@pytest.mark.parametrize(
    ("words", "when"),
    [
        ("You've hit your limit · resets 3pm (Europe/Berlin)", "3pm (Europe/Berlin)"),
        ("You've hit your usage limit. Try again in 2 hours 5 minutes.", "in 2 hours 5 minutes"),
        ("Quota exceeded. Please retry in 52.3s", "in 52.3s"),
        ("Not logged in · Please run /login", None),
        ("API Error: 529 overloaded. Try again in a moment.", None),
    ],
)
def test_the_reset_time_is_read_from_the_cli_s_words(words: str, when: str | None) -> None:
    assert reset_time(words) == when


@pytest.mark.parametrize(
    ("problem", "title", "template", "advice"),
    [
        (ApiProblem.RATE_LIMIT, "⏳ Rate limited", "orange", "Wait a minute"),
        (ApiProblem.USAGE_LIMIT, "🚫 Usage limit reached", "orange", "once it resets"),
        (ApiProblem.AUTH, "🔑 Not signed in to the model API", "red", "/login"),
        (ApiProblem.OVERLOADED, "🔥 Model API overloaded", "orange", "your quota is fine"),
        (ApiProblem.OTHER, "⚠️ Model API error", "red", "#screenshot"),
    ],
)
def test_each_problem_has_its_title_colour_and_advice(
    problem: ApiProblem, title: str, template: str, advice: str
) -> None:
    card = api_problem_card(problem, "the CLI's words", title="claude · app")

    text = card_text(card)
    assert f"{title} · claude · app" in text
    assert "the CLI's words" in text
    assert advice in text
    assert colour(card) == template
    assert "Resets" not in text


def test_a_reset_time_is_shown_on_its_own_line() -> None:
    card = api_problem_card(ApiProblem.USAGE_LIMIT, "limit reached · resets 3pm", title="x")

    assert "**Resets:** 3pm" in card_text(card)
