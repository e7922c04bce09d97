"""A fake OpenAI-compatible chat-completions endpoint on 127.0.0.1, for the #ask orchestrator.

Owns the HTTP side (``POST /v1/chat/completions``, answered in the wire shape the official
SDK reads), the request log, a key check (a request without ``Authorization: Bearer <key>``
gets OpenAI's own 401) and the script: each request takes the next scripted step, or repeats
the step scripted with ``forever``; with nothing scripted it answers in words
``FAKE-ORCHESTRATOR: nothing scripted``. A step is

    say(text)                 an answer in words (the request ends)
    call(name, **arguments)   one tool call (``calls`` for several in one answer)
    raw_call(name, text)      one tool call whose arguments are the text as is (malformed)
    fail(status, message)     an HTTP error with OpenAI's error body
    hang(seconds, then)       wait, then answer with step ``then`` (a timeout, when longer
                              than the client waits)

or a function of the request's body returning one of these (for answers that depend on a
tool's result, e.g. a window id).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = [
    "DEFAULT_KEY",
    "FakeChatCompletions",
    "call",
    "calls",
    "fail",
    "hang",
    "raw_call",
    "say",
    "tool_results",
]

HOST = "127.0.0.1"
DEFAULT_KEY = "sk-fake-orchestrator-key"
NOTHING_SCRIPTED = "FAKE-ORCHESTRATOR: nothing scripted"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """A scripted answer: words, or tool calls (name, raw JSON arguments)."""

    text: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Failure:
    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Hang:
    seconds: float
    then: Step


Step = Answer | Failure | Hang | Callable[[Json], "Answer | Failure | Hang"]


def say(text: str) -> Answer:
    return Answer(text=text)


def call(name: str, **arguments: Any) -> Answer:
    return Answer(tool_calls=((name, json.dumps(arguments)),))


def calls(*pairs: tuple[str, dict[str, Any]]) -> Answer:
    return Answer(tool_calls=tuple((name, json.dumps(args)) for name, args in pairs))


def raw_call(name: str, arguments: str) -> Answer:
    return Answer(tool_calls=((name, arguments),))


def fail(status: int, message: str = "scripted failure") -> Failure:
    return Failure(status=status, message=message)


def hang(seconds: float, then: Step | None = None) -> Hang:
    return Hang(seconds=seconds, then=then or say("late answer"))


def tool_results(body: Json) -> list[str]:
    """The contents of the tool messages a request carries, in order."""
    return [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "tool"]


@dataclass
class _Log:
    bodies: list[Json] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


class FakeChatCompletions:
    """``async with FakeChatCompletions(key="sk-test") as fake:`` then ``fake.base_url``."""

    def __init__(self, *, key: str = DEFAULT_KEY) -> None:
        self.key = key
        self._script: deque[Step] = deque()
        self._forever: Step | None = None
        self._log = _Log()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._calls = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._port}/v1"

    @property
    def requests(self) -> list[Json]:
        """The bodies of the requests answered so far (a 401 is not one)."""
        return list(self._log.bodies)

    @property
    def keys_seen(self) -> list[str]:
        return list(self._log.keys)

    def script(self, *steps: Step) -> None:
        self._script.extend(steps)

    def forever(self, step: Step) -> None:
        """Answer every request after the scripted ones with step."""
        self._forever = step

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        authorization = request.headers.get("Authorization", "")
        self._log.keys.append(authorization.removeprefix("Bearer "))
        if authorization != f"Bearer {self.key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        body = await request.json()
        self._log.bodies.append(body)
        step = self._next()
        while True:
            if callable(step) and not isinstance(step, Answer | Failure | Hang):
                step = step(body)
            if isinstance(step, Hang):
                await asyncio.sleep(step.seconds)
                step = step.then
                continue
            break
        if isinstance(step, Failure):
            return _error(step.status, step.message, None)
        assert isinstance(step, Answer)
        return web.json_response(self._completion(body, step))

    def _next(self) -> Step:
        if self._script:
            return self._script.popleft()
        return self._forever or say(NOTHING_SCRIPTED)

    def _completion(self, body: Json, answer: Answer) -> Json:
        message: Json = {"role": "assistant", "content": answer.text}
        if answer.tool_calls:
            tool_calls = []
            for name, arguments in answer.tool_calls:
                self._calls += 1
                tool_calls.append({"id": f"call_{self._calls}", "type": "function",
                                   "function": {"name": name, "arguments": arguments}})  # fmt: skip
            message["tool_calls"] = tool_calls
        finish = "tool_calls" if answer.tool_calls else "stop"
        return {
            "id": f"chatcmpl-{len(self._log.bodies)}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish,
                         "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }  # fmt: skip


def _error(status: int, message: str, code: str | None) -> web.Response:
    kind = {401: "invalid_request_error", 429: "requests"}.get(status, "server_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status)
