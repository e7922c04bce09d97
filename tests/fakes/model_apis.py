"""Fake Anthropic, OpenAI Responses and Gemini APIs on 127.0.0.1, for the real agent CLIs.

Owns the HTTP side of the e2e kit: replies scripted from the prompt, the request log and forced
replies; how a reply looks on the wire is ``model_wire.py``'s. It does not configure or launch
any CLI (see ``agent_homes.py``).

A turn request is answered from its last real user text (injected ``<tag>…</tag>`` blocks such
as ``<system-reminder>`` or ``<environment_context>`` are skipped):

    plain text       -> "FAKE-REPLY: you said '<text>'"
    BASH: <cmd>      -> "I'll run that command." plus a shell tool call for <cmd> (Claude Bash,
                        Codex exec_command, Gemini run_shell_command) that asks for approval
    DELAY=<seconds>  -> wait that long before answering (anywhere in the text)
    THINK: <text>    -> a thinking block before the answer (Claude)

When the last user content is a tool result, the answer is
``Tool finished (is_error=<bool>): <excerpt>``. Side requests (Claude's session title, Codex's
thread title, Gemini's router) get schema-valid JSON and never take a forced reply.
"""

from __future__ import annotations

import enum
import json
import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self

from aiohttp import web

from fakes.model_wire import (
    RawReply,
    Reply,
    anthropic_message,
    anthropic_stream,
    gemini_parts,
    gemini_response,
    gemini_stream,
    responses_stream,
    send,
    send_json,
    send_raw,
)

__all__ = [
    "FakeModelAPIs",
    "LoggedRequest",
    "Provider",
    "RawReply",
    "Reply",
    "UserTurn",
    "fill_schema",
    "script_reply",
]

Provider = Literal["claude", "codex", "gemini"]
PROVIDERS: tuple[Provider, ...] = ("claude", "codex", "gemini")
HOST = "127.0.0.1"
TITLE = "Fake session"
EXCERPT_CHARS = 160

_DELAY = re.compile(r"DELAY=(\d+(?:\.\d*)?)")
_THINK = re.compile(r"THINK:[ \t]*([^\n]*)")
_BASH = re.compile(r"^BASH:[ \t]*(.+)$", re.MULTILINE)
_INJECTED = re.compile(r"\s*(?:<([A-Za-z_][\w-]*)>.*?</\1>\s*)+", re.DOTALL)
_EXIT_ZERO = re.compile(r"exited with code 0\b")
# Codex rejects an escalation request when it runs with approval policy "never" (yolo).
_CODEX_NEVER_ASKS = "Approval policy is currently never"
_CODEX_PERMISSIONS = "<permissions instructions>"

_PROVIDER: web.AppKey[Provider] = web.AppKey("provider")
_BODY = web.RequestKey("body", object)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Json = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTurn:
    """What a turn request answers: the last real user text, else the last tool result."""

    text: str | None = None
    tool_result: str | None = None
    is_error: bool = False


class LoggedRequest(NamedTuple):
    provider: Provider
    path: str
    body: Any


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


def script_reply(turn: UserTurn) -> Reply:
    """The scripted answer to a turn (see the module docstring)."""
    if turn.text is None and turn.tool_result is not None:
        excerpt = " ".join(turn.tool_result.split())[:EXCERPT_CHARS] or "(empty)"
        return Reply(text=f"Tool finished (is_error={turn.is_error}): {excerpt}")
    text = turn.text or ""
    delay = float(found[1]) if (found := _DELAY.search(text)) else 0.0
    thinking = found[1].strip() if (found := _THINK.search(text)) else ""
    if found := _BASH.search(text):
        command = _DELAY.sub("", found[1]).strip()
        return Reply(text="I'll run that command.", command=command, thinking=thinking, delay=delay)
    return Reply(text=f"FAKE-REPLY: you said '{text}'", thinking=thinking, delay=delay)


def fill_schema(schema: Any, text: str = TITLE) -> Any:
    """A value valid for a simple JSON schema (types, enums, consts, minimums, minItems)."""
    if not isinstance(schema, dict):
        return text
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return fill_schema(schema[combinator][0], text)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = str(kind).lower()  # Gemini spells types in upper case
    if kind == "object":
        return {key: fill_schema(sub, text) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [fill_schema(schema.get("items"), text) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return int(low) if kind == "integer" else float(low)
    return {"boolean": False, "null": None}.get(kind, text)


def _flatten(value: Any) -> str:
    """Tool-result content of any provider's shape (str, blocks, dict) as plain text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        for key in ("text", "content", "output", "error"):
            if key in value:
                return _flatten(value[key])
        return json.dumps(value)
    return "" if value is None else str(value)


def _last_real_text(texts: Iterable[str]) -> str | None:
    real = [t for t in texts if not _INJECTED.fullmatch(t) and not t.startswith("[Request interr")]
    return real[-1] if real else None


def _claude_turn(body: Json) -> UserTurn:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        text = _last_real_text(b.get("text", "") for b in blocks if b.get("type") == "text")
        if text is not None:
            return UserTurn(text=text)
        if results := [b for b in blocks if b.get("type") == "tool_result"]:
            error = bool(results[-1].get("is_error"))
            return UserTurn(tool_result=_flatten(results[-1].get("content")), is_error=error)
    return UserTurn()


def _codex_turn(body: Json) -> UserTurn:
    for item in reversed(body.get("input") or []):
        kind = item.get("type", "message")
        if kind == "function_call_output":  # an exec_command output ends "exited with code N"
            output = _flatten(item.get("output"))
            return UserTurn(tool_result=output, is_error=not _EXIT_ZERO.search(output))
        if kind == "message" and item.get("role") == "user":
            content = item.get("content")
            parts = [{"text": content}] if isinstance(content, str) else content or []
            if (text := _last_real_text(p["text"] for p in parts if "text" in p)) is not None:
                return UserTurn(text=text)
    return UserTurn()


def _gemini_turn(body: Json) -> UserTurn:
    for content in reversed(body.get("contents") or []):
        if content.get("role", "user") != "user":
            continue
        parts = content.get("parts") or []
        text = _last_real_text(p["text"] for p in parts if "text" in p and not p.get("thought"))
        if text is not None:
            return UserTurn(text=text)
        if answers := [p["functionResponse"] for p in parts if "functionResponse" in p]:
            answer = answers[-1].get("response") or {}
            return UserTurn(tool_result=_flatten(answer), is_error="error" in answer)
    return UserTurn()


def _codex_escalates(body: Json) -> bool:
    """Unless the permissions Codex last told the model (a switch of mode tells them again)
    say its approval policy is "never"."""
    told = json.dumps(body.get("input") or []).split(_CODEX_PERMISSIONS)
    return len(told) < 2 or _CODEX_NEVER_ASKS not in told[-1].split("</permissions")[0]


class FakeModelAPIs:
    """Three fake model APIs (one aiohttp server each) on ephemeral 127.0.0.1 ports.

    Use as ``async with FakeModelAPIs() as apis``. ``requests`` logs every request as
    ``LoggedRequest(provider, path_with_query, parsed_json_or_None)``; ``force_reply`` queues
    a reply for the provider's next turn request (side requests never take it); ``refuse``
    answers every turn request with an error until called with None (a CLI may retry many
    times before it gives up).
    """

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self._forced: dict[Provider, deque[Reply | RawReply]] = {p: deque() for p in PROVIDERS}
        self._refusal: dict[Provider, RawReply | None] = dict.fromkeys(PROVIDERS)
        self._runners: list[web.AppRunner] = []
        self._ports: dict[Provider, int] = {}
        self._state = _State.NEW

    @property
    def anthropic_url(self) -> str:
        """For ANTHROPIC_BASE_URL (no /v1: the CLI appends /v1/messages)."""
        return f"http://{HOST}:{self._port('claude')}"

    @property
    def openai_url(self) -> str:
        """For a Codex ``model_providers.<id>.base_url`` (it ends in /v1)."""
        return f"http://{HOST}:{self._port('codex')}/v1"

    @property
    def gemini_url(self) -> str:
        """For GOOGLE_GEMINI_BASE_URL (the CLI appends /v1beta/models/...)."""
        return f"http://{HOST}:{self._port('gemini')}"

    def force_reply(self, provider: Provider, reply: Reply | RawReply) -> None:
        """Queue ``reply`` as the answer to ``provider``'s next turn request (FIFO)."""
        self._forced[provider].append(reply)

    def refuse(self, provider: Provider, error: RawReply | None) -> None:
        """Answer each of ``provider``'s turn requests with ``error`` (None: answer again)."""
        self._refusal[provider] = error

    def requests_for(self, provider: Provider) -> list[LoggedRequest]:
        return [r for r in self.requests if r.provider == provider]

    async def start(self) -> None:
        """Bind the three servers on 127.0.0.1 ephemeral ports. Idempotent while running.

        Raises: RuntimeError after stop() (no restart); OSError when a bind fails.
        """
        if self._state is _State.RUNNING:
            return
        if self._state is _State.STOPPED:
            raise RuntimeError("FakeModelAPIs cannot be restarted after stop()")
        self._state = _State.RUNNING
        for provider in PROVIDERS:
            runner = web.AppRunner(self._app(provider), shutdown_timeout=1.0, access_log=None)
            await runner.setup()
            self._runners.append(runner)
            await web.TCPSite(runner, HOST, 0).start()
            self._ports[provider] = runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the servers; replies still in flight get 1 s, then are cancelled. Idempotent."""
        self._state = _State.STOPPED
        while self._runners:
            await self._runners.pop().cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _port(self, provider: Provider) -> int:
        if provider not in self._ports:
            raise RuntimeError("FakeModelAPIs is not started: use `async with FakeModelAPIs()`")
        return self._ports[provider]

    def _app(self, provider: Provider) -> web.Application:
        app = web.Application(middlewares=[self._log])
        app[_PROVIDER] = provider
        routes = {
            "claude": [
                web.head("/", self._ok),
                web.post("/v1/messages", self._claude_messages),
                web.post("/v1/messages/count_tokens", self._count_tokens),
            ],
            "codex": [web.post("/v1/responses", self._codex_responses)],
            "gemini": [web.post("/v1beta/models/{model_action}", self._gemini_models)],
        }[provider]
        app.add_routes([*routes, web.route("*", "/{tail:.*}", self._not_found)])
        return app

    @web.middleware
    async def _log(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request[_BODY] = body
        self.requests.append(LoggedRequest(request.app[_PROVIDER], request.path_qs, body))
        return await handler(request)

    def _turn_reply(self, provider: Provider, turn: UserTurn) -> Reply | RawReply:
        refusal, forced = self._refusal[provider], self._forced[provider]
        if refusal is not None:
            return refusal
        return forced.popleft() if forced else script_reply(turn)

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response()

    async def _count_tokens(self, request: web.Request) -> web.Response:
        return web.json_response({"input_tokens": len(json.dumps(request[_BODY])) // 4 + 1})

    async def _not_found(self, request: web.Request) -> web.Response:
        message = f"fake {request.app[_PROVIDER]} API: no route for {request.method} {request.path}"
        error = {"type": "error", "error": {"type": "not_found_error", "message": message}}
        return web.json_response(error, status=404)

    async def _claude_messages(self, request: web.Request) -> web.StreamResponse:
        body = _object(request[_BODY])
        model = str(body.get("model", "claude-opus-4-8"))
        fmt = (body.get("output_config") or {}).get("format") or {}
        if not body.get("tools") and fmt.get("type") == "json_schema":  # the session title
            reply: Reply | RawReply = Reply(text=json.dumps(fill_schema(fmt.get("schema"))))
        else:
            reply = self._turn_reply("claude", _claude_turn(body))
        if isinstance(reply, RawReply):
            return await send_raw(request, reply)
        if body.get("stream"):
            return await send(request, anthropic_stream(reply, model), delay=reply.delay)
        return await send_json(request, anthropic_message(reply, model), reply.delay)

    async def _codex_responses(self, request: web.Request) -> web.StreamResponse:
        body = _object(request[_BODY])
        fmt = (body.get("text") or {}).get("format") or {}
        if not body.get("tools") and fmt.get("type") == "json_schema":  # the thread title
            reply: Reply | RawReply = Reply(text=json.dumps(fill_schema(fmt.get("schema"))))
        else:
            reply = self._turn_reply("codex", _codex_turn(body))
        if isinstance(reply, RawReply):
            return await send_raw(request, reply)
        model, escalate = str(body.get("model", "fake-model")), _codex_escalates(body)
        stream = responses_stream(reply, model, escalate=escalate)
        return await send(request, stream, delay=reply.delay)

    async def _gemini_models(self, request: web.Request) -> web.StreamResponse:
        model, _, action = request.match_info["model_action"].partition(":")
        body = _object(request[_BODY])
        if action == "countTokens":
            return web.json_response({"totalTokens": len(json.dumps(body)) // 4 + 1})
        if action not in ("generateContent", "streamGenerateContent"):
            return await self._not_found(request)
        config = body.get("generationConfig") or {}
        schema = config.get("responseJsonSchema", config.get("responseSchema"))
        if schema is not None or config.get("responseMimeType") == "application/json":  # router
            reply: Reply | RawReply = Reply(text=json.dumps(fill_schema(schema, "fake")))
        else:
            reply = self._turn_reply("gemini", _gemini_turn(body))
        if isinstance(reply, RawReply):
            return await send_raw(request, reply)
        if action == "streamGenerateContent":
            return await send(request, gemini_stream(reply, model), delay=reply.delay)
        return await send_json(request, gemini_response(gemini_parts(reply), model), reply.delay)


def _object(body: Any) -> Json:
    return body if isinstance(body, dict) else {}
