"""Which ApiProblem a CLI's report of a refused model request names.

Owns the HTTP statuses and the words that identify each problem, shared by the parsers (each
finds the report in its own format). Words win over a status when they say more: a 429 that
says the usage limit is reached is a usage limit, not a passing rate limit.
"""

from __future__ import annotations

import re
from typing import Final

from unified_icc.events import ApiProblem

__all__ = ["classify_api_error"]

_BY_STATUS: Final = {
    429: ApiProblem.RATE_LIMIT,
    401: ApiProblem.AUTH,
    403: ApiProblem.AUTH,
    529: ApiProblem.OVERLOADED,
    503: ApiProblem.OVERLOADED,
}
_USAGE: Final = re.compile(
    r"usage limit|limit reached|hit your (?:usage )?limit|quota (?:exceeded|will reset)"
    r"|exhausted your (?:\w+ )?quota|credit balance|out of credits",
    re.IGNORECASE,
)
_AUTH_WORDS: Final = re.compile(
    r"not logged in|/login\b|unauthori[sz]ed|authenticat|invalid (?:x-)?api[ -]?key"
    r"|api key not valid|forbidden",
    re.IGNORECASE,
)
_OVERLOAD_WORDS: Final = re.compile(r"overloaded|at capacity|\bunavailable\b", re.IGNORECASE)
_RATE_WORDS: Final = re.compile(
    r"rate.?limit|too many requests|resource.?exhausted|\b429\b", re.IGNORECASE
)
_BY_WORDS: Final = (
    (ApiProblem.AUTH, _AUTH_WORDS),
    (ApiProblem.OVERLOADED, _OVERLOAD_WORDS),
    (ApiProblem.RATE_LIMIT, _RATE_WORDS),
)
_STATUS_IN_WORDS: Final = re.compile(r"\b(4\d\d|5\d\d)\b")


def classify_api_error(words: str, *, status: int | None = None) -> ApiProblem:
    """The problem a CLI's error report names: by its words, else its HTTP status (given, or
    a 4xx/5xx code in the words), else OTHER."""
    if _USAGE.search(words):
        return ApiProblem.USAGE_LIMIT
    if status is None and (found := _STATUS_IN_WORDS.search(words)):
        status = int(found[1])
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    for problem, pattern in _BY_WORDS:
        if pattern.search(words):
            return problem
    return ApiProblem.OTHER
