"""classify_api_error: which problem a CLI's report of a refused model request names."""

from __future__ import annotations

import pytest

from unified_icc import ApiProblem
from unified_icc.transcripts.api_errors import classify_api_error


@pytest.mark.parametrize(
    ("words", "status", "problem"),
    [
        ("API Error: Request rejected (429) · too many requests", None, ApiProblem.RATE_LIMIT),
        ("exceeded retry limit, last status: 429 Too Many Requests", None, ApiProblem.RATE_LIMIT),
        ("Resource has been exhausted (RESOURCE_EXHAUSTED)", None, ApiProblem.RATE_LIMIT),
        ("Not logged in · Please run /login", None, ApiProblem.AUTH),
        ("unexpected status 401 Unauthorized: invalid x-api-key", None, ApiProblem.AUTH),
        ("API key not valid. Please pass a valid API key.", 400, ApiProblem.AUTH),
        ("API Error: 529 the API is overloaded", None, ApiProblem.OVERLOADED),
        ("Selected model is at capacity. Please try a different model.", None,
         ApiProblem.OVERLOADED),
        ("", 503, ApiProblem.OVERLOADED),
        # Words that name a spent quota win over a 429 that alone would be a passing limit.
        ("You've hit your usage limit. Try again in 2 hours.", 429, ApiProblem.USAGE_LIMIT),
        ("You have exhausted your daily quota on this model.", 429, ApiProblem.USAGE_LIMIT),
        ("Your credit balance is too low to access the API", None, ApiProblem.USAGE_LIMIT),
        ("the stream was cut", None, ApiProblem.OTHER),
        ("unexpected status 400 Bad Request", None, ApiProblem.OTHER),
    ],
)  # fmt: skip
def test_a_refusal_is_named_by_its_words_then_its_status(
    words: str, status: int | None, problem: ApiProblem
) -> None:
    assert classify_api_error(words, status=status) is problem
