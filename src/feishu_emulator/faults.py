"""Failure switches a test or a person turns on, and the platform's natural rate limits.

Owns the forced 5xx, 429 and 230020 answers, the ws endpoint refusals, and the sliding
windows behind the documented QPS limits; knows no HTTP (rest.py and ws.py ask it).
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from feishu_emulator.models import Api, Limits, RefuseMode

__all__ = [
    "IM_APIS",
    "ApiRateLimit",
    "EndpointRefusal",
    "Faults",
    "ServerError",
    "ServerErrorBody",
    "SlidingWindow",
    "Throttle",
]

ServerErrorBody = Literal["json", "html"]
IM_APIS = frozenset(Api) - {Api.TENANT_TOKEN, Api.BOT_INFO}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerError:
    """``times`` answers with HTTP ``status``; ``api`` None means any IM call (not the token)."""

    status: int
    body: ServerErrorBody
    api: Api | None
    times: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRateLimit:
    """``times`` answers of HTTP 429 / 99991400 with ``x-ogw-ratelimit-reset``."""

    api: Api | None
    times: int
    reset_after: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointRefusal:
    """The ws endpoint refuses ``times`` calls and/or until ``until`` (monotonic s)."""

    mode: RefuseMode
    times: int | None
    until: float | None


_Counted = TypeVar("_Counted", ServerError, ApiRateLimit)


@dataclass(slots=True)
class SlidingWindow:
    """At most ``limit`` hits in any ``period`` seconds."""

    limit: int
    period: float
    hits: deque[float] = field(default_factory=deque)

    def wait_before_hit(self, now: float) -> float:
        """0 and a recorded hit when allowed, else the seconds until the window frees."""
        while self.hits and now - self.hits[0] >= self.period:
            self.hits.popleft()
        if len(self.hits) >= self.limit:
            return self.period - (now - self.hits[0])
        self.hits.append(now)
        return 0.0


class Faults:
    """The switches; thread-safe because tests flip them from their own thread."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._server_errors: list[ServerError] = []
        self._api_limits: list[ApiRateLimit] = []
        self._chat_limits: dict[str, int] = {}
        self._refusal: EndpointRefusal | None = None
        self._failing: tuple[float, int, random.Random] | None = None  # ratio, status, dice
        self._slow_chats: dict[str, float] = {}

    def fail_next(self, fault: ServerError) -> None:
        with self._lock:
            self._server_errors.append(fault)

    def fail_ratio(self, ratio: float, *, status: int, seed: int) -> None:
        """From now on, each IM call fails with HTTP status with probability ratio (0: off)."""
        with self._lock:
            self._failing = (ratio, status, random.Random(seed)) if ratio > 0 else None

    def slow_chat(self, chat_id: str, seconds: float) -> None:
        """Calls that post to or patch in chat_id answer after seconds (0: at once again)."""
        with self._lock:
            if seconds > 0:
                self._slow_chats[chat_id] = seconds
            else:
                self._slow_chats.pop(chat_id, None)

    def delay_for(self, chat_id: str) -> float:
        with self._lock:
            return self._slow_chats.get(chat_id, 0.0)

    def rate_limit_api(self, fault: ApiRateLimit) -> None:
        with self._lock:
            self._api_limits.append(fault)

    def rate_limit_chat(self, chat_id: str, times: int) -> None:
        with self._lock:
            self._chat_limits[chat_id] = self._chat_limits.get(chat_id, 0) + times

    def refuse_ws_endpoint(
        self, mode: RefuseMode, *, times: int | None, seconds: float | None
    ) -> None:
        until = None if seconds is None else self._monotonic() + seconds
        with self._lock:
            self._refusal = EndpointRefusal(mode=mode, times=times, until=until)

    def clear(self) -> None:
        with self._lock:
            self._server_errors.clear()
            self._api_limits.clear()
            self._chat_limits.clear()
            self._refusal = None
            self._failing = None
            self._slow_chats.clear()

    def take_server_error(self, api: Api) -> ServerError | None:
        with self._lock:
            for index, fault in enumerate(self._server_errors):
                if fault.api == api or (fault.api is None and api in IM_APIS):
                    return _consume(self._server_errors, index)
            if self._failing is not None and api in IM_APIS:
                ratio, status, dice = self._failing
                if dice.random() < ratio:
                    return ServerError(status=status, body="json", api=api, times=1)
            return None

    def take_api_limit(self, api: Api) -> ApiRateLimit | None:
        with self._lock:
            for index, fault in enumerate(self._api_limits):
                if fault.api in (None, api):
                    return _consume(self._api_limits, index)
            return None

    def take_chat_limit(self, chat_id: str) -> bool:
        with self._lock:
            left = self._chat_limits.get(chat_id, 0)
            if left <= 0:
                return False
            self._chat_limits[chat_id] = left - 1
            return True

    def take_endpoint_refusal(self) -> RefuseMode | None:
        with self._lock:
            refusal = self._refusal
            if refusal is None:
                return None
            expired = refusal.until is not None and self._monotonic() >= refusal.until
            if expired or refusal.times == 0:
                self._refusal = None
                return None
            if refusal.times is not None:
                self._refusal = EndpointRefusal(
                    mode=refusal.mode, times=refusal.times - 1, until=refusal.until
                )
            return refusal.mode

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "server_errors": list(self._server_errors),
                "api_rate_limits": list(self._api_limits),
                "chat_rate_limits": dict(self._chat_limits),
                "ws_endpoint_refusal": self._refusal,
                "failing": None if self._failing is None else self._failing[:2],
                "slow_chats": dict(self._slow_chats),
            }


def _consume(faults: list[_Counted], index: int) -> _Counted:
    """Use up one of a fault's ``times``, dropping it when none is left."""
    fault = faults[index]
    if fault.times <= 1:
        del faults[index]
    else:
        faults[index] = dataclasses.replace(fault, times=fault.times - 1)
    return fault


class Throttle:
    """The documented limits: per app and API, per chat for sends, per message for patches,
    per card entity for CardKit calls."""

    def __init__(self, limits: Limits, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, ...], SlidingWindow] = {}

    def api_wait(self, app_id: str, api: Api) -> int:
        """0 when allowed, else whole seconds to wait (the x-ogw-ratelimit-reset value)."""
        per_second = self._wait(("api-s", app_id, api), self._limits.api_qps, 1.0)
        per_minute = self._wait(("api-m", app_id, api), self._limits.api_per_minute, 60.0)
        wait = max(per_second, per_minute)
        return 0 if wait <= 0 else max(1, math.ceil(wait))

    def chat_allows(self, chat_id: str) -> bool:
        return self._wait(("chat", chat_id), self._limits.chat_qps, 1.0) <= 0

    def patch_allows(self, message_id: str) -> bool:
        return self._wait(("patch", message_id), self._limits.message_patch_qps, 1.0) <= 0

    def card_allows(self, card_id: str) -> bool:
        """A CardKit call on this card entity (create, stream, settings, update) may go."""
        return self._wait(("card", card_id), self._limits.card_ops_per_second, 1.0) <= 0

    def _wait(self, key: tuple[str, ...], limit: int, period: float) -> float:
        if not self._limits.enforced:
            return 0.0
        with self._lock:
            window = self._windows.setdefault(key, SlidingWindow(limit=limit, period=period))
            return window.wait_before_hit(self._monotonic())
