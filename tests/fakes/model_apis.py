"""Fake Anthropic, OpenAI Responses and Gemini APIs on 127.0.0.1, for the real agent CLIs.

Owns the HTTP side of the e2e kit: replies scripted from the prompt, the request log and forced
replies. It does not configure or launch any CLI (see ``agent_homes.py``).

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

import asyncio
import enum
import json
import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self

from aiohttp import web

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
CHUNK_CHARS = 24
USAGE = {"input_tokens": 10, "output_tokens": 5}

_DELAY = re.compile(r"DELAY=(\d+(?:\.\d*)?)")
_THINK = re.compile(r"THINK:[ \t]*([^\n]*)")
_BASH = re.compile(r"^BASH:[ \t]*(.+)$", re.MULTILINE)
_INJECTED = re.compile(r"\s*(?:<([A-Za-z_][\w-]*)>.*?</\1>\s*)+", re.DOTALL)
_EXIT_ZERO = re.compile(r"exited with code 0\b")
# Codex rejects an escalation request when it runs with approval policy "never" (yolo).
_CODEX_NEVER_ASKS = "Approval policy is currently never"

_PROVIDER: web.AppKey[Provider] = web.AppKey("provider")
_BODY = web.RequestKey("body", object)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Json = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One model turn; rendered in each provider's own (streaming) format."""

    text: str = ""
    thinking: str = ""
    command: str | None = None
    delay: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RawReply:
    """An exact HTTP answer, for odd shapes: error statuses, cut or malformed streams."""

    body: str = ""
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0


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
    return _CODEX_NEVER_ASKS not in json.dumps(body.get("input") or [])


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


def _fake_id(prefix: str) -> str:
    return f"{prefix}_fake_{uuid.uuid4().hex[:24]}"


def _sse(data: Json, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


# Anthropic Messages ---------------------------------------------------------------------------


def _anthropic_message(reply: Reply, model: str) -> Json:
    blocks: list[Json] = []
    if reply.thinking:
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": "fake-sig"})
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    if reply.command is not None:
        arguments = {"command": reply.command, "description": "Run requested command"}
        tool_use = {"type": "tool_use", "id": _fake_id("toolu"), "name": "Bash"}
        blocks.append({**tool_use, "input": arguments})
    return {
        "id": _fake_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": "tool_use" if reply.command is not None else "end_turn",
        "stop_sequence": None,
        "usage": {**USAGE, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


def _anthropic_block(index: int, block: Json) -> Iterator[bytes]:
    start: Json
    match block["type"]:
        case "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": block["thinking"]},
                {"type": "signature_delta", "signature": block["signature"]},
            ]
        case "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": c} for c in _chunks(block["text"])]
        case _:
            start = {**block, "input": {}}
            partial = _chunks(json.dumps(block["input"]))
            deltas = [{"type": "input_json_delta", "partial_json": c} for c in partial]
    opened = {"type": "content_block_start", "index": index, "content_block": start}
    yield _sse(opened, "content_block_start")
    for delta in deltas:
        event = {"type": "content_block_delta", "index": index, "delta": delta}
        yield _sse(event, "content_block_delta")
    yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def _anthropic_stream(reply: Reply, model: str) -> Iterator[bytes]:
    message = _anthropic_message(reply, model)
    opened = {**message, "content": [], "stop_reason": None}
    yield _sse({"type": "message_start", "message": opened}, "message_start")
    for index, block in enumerate(message["content"]):
        yield from _anthropic_block(index, block)
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield _sse({"type": "message_delta", "delta": stop, "usage": USAGE}, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")


# OpenAI Responses -----------------------------------------------------------------------------


def _responses_items(reply: Reply, *, escalate: bool) -> list[Json]:
    items: list[Json] = []
    if reply.text:
        content = [{"type": "output_text", "text": reply.text, "annotations": []}]
        message = {"type": "message", "id": _fake_id("msg"), "role": "assistant"}
        items.append({**message, "content": content})
    if reply.command is not None:
        arguments: Json = {"cmd": reply.command}
        if escalate:  # so that the approval prompt appears even for a workspace-write command
            arguments["sandbox_permissions"] = "require_escalated"
            arguments["justification"] = "Fake server wants to run this outside the sandbox"
        call = {"type": "function_call", "id": _fake_id("fc"), "call_id": _fake_id("call")}
        items.append({**call, "name": "exec_command", "arguments": json.dumps(arguments)})
    return [{**item, "status": "completed"} for item in items]


def _responses_stream(reply: Reply, model: str, *, escalate: bool) -> Iterator[bytes]:
    response = {"id": _fake_id("resp"), "object": "response", "model": model, "output": []}
    events: list[Json] = [
        {"type": "response.created", "response": {**response, "status": "in_progress"}}
    ]
    for index, item in enumerate(items := _responses_items(reply, escalate=escalate)):
        opened = {**item, "status": "in_progress"} | ({"content": []} if "content" in item else {})
        events.append({"type": "response.output_item.added", "output_index": index, "item": opened})
        if item["type"] == "message":
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            delta = {"type": "response.output_text.delta", **where}
            events += [{**delta, "delta": chunk} for chunk in _chunks(reply.text)]
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    usage = {
        **USAGE,
        "total_tokens": 15,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    done = {**response, "status": "completed", "output": items, "usage": usage}
    events.append({"type": "response.completed", "response": done})
    for number, event in enumerate(events):
        yield _sse({**event, "sequence_number": number}, event["type"])


# Gemini ---------------------------------------------------------------------------------------


def _gemini_parts(reply: Reply) -> list[Json]:
    parts: list[Json] = []
    if reply.text:
        parts.append({"text": reply.text})
    if reply.command is not None:
        call = {"name": "run_shell_command", "args": {"command": reply.command}}
        parts.append({"functionCall": call})
    return parts or [{"text": ""}]


def _gemini_response(parts: list[Json], model: str, *, last: bool = True) -> Json:
    candidate: Json = {"content": {"role": "model", "parts": parts}, "index": 0}
    answer: Json = {"candidates": [candidate], "modelVersion": model}
    if last:
        candidate["finishReason"] = "STOP"
        counts = {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}
        answer["usageMetadata"] = counts
    return answer


def _gemini_stream(reply: Reply, model: str) -> Iterator[bytes]:
    parts = _gemini_parts(reply)
    for index, part in enumerate(parts):
        yield _sse(_gemini_response([part], model, last=index == len(parts) - 1))


# The servers ----------------------------------------------------------------------------------


async def _send(
    request: web.Request,
    chunks: Iterable[bytes],
    *,
    delay: float = 0.0,
    status: int = 200,
    content_type: str = "text/event-stream",
) -> web.StreamResponse:
    """Wait ``delay`` seconds, then write ``chunks`` one by one (chunked transfer encoding)."""
    if delay:
        await asyncio.sleep(delay)
    headers = {"Content-Type": content_type, "request-id": _fake_id("req")}
    response = web.StreamResponse(status=status, headers=headers)
    try:
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # The CLI hung up (Esc, exit): nobody is left to answer.
    return response


class FakeModelAPIs:
    """Three fake model APIs (one aiohttp server each) on ephemeral 127.0.0.1 ports.

    Use as ``async with FakeModelAPIs() as apis``. ``requests`` logs every request as
    ``LoggedRequest(provider, path_with_query, parsed_json_or_None)``; ``force_reply`` queues
    a reply for the provider's next turn request (side requests never take it).
    """

    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self._forced: dict[Provider, deque[Reply | RawReply]] = {p: deque() for p in PROVIDERS}
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
        forced = self._forced[provider]
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
            return await _send_raw(request, reply)
        if body.get("stream"):
            return await _send(request, _anthropic_stream(reply, model), delay=reply.delay)
        return await _send_json(request, _anthropic_message(reply, model), reply.delay)

    async def _codex_responses(self, request: web.Request) -> web.StreamResponse:
        body = _object(request[_BODY])
        fmt = (body.get("text") or {}).get("format") or {}
        if not body.get("tools") and fmt.get("type") == "json_schema":  # the thread title
            reply: Reply | RawReply = Reply(text=json.dumps(fill_schema(fmt.get("schema"))))
        else:
            reply = self._turn_reply("codex", _codex_turn(body))
        if isinstance(reply, RawReply):
            return await _send_raw(request, reply)
        model, escalate = str(body.get("model", "fake-model")), _codex_escalates(body)
        stream = _responses_stream(reply, model, escalate=escalate)
        return await _send(request, stream, delay=reply.delay)

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
            return await _send_raw(request, reply)
        if action == "streamGenerateContent":
            return await _send(request, _gemini_stream(reply, model), delay=reply.delay)
        return await _send_json(request, _gemini_response(_gemini_parts(reply), model), reply.delay)


async def _send_json(request: web.Request, data: Json, delay: float) -> web.StreamResponse:
    return await _send(
        request, [json.dumps(data).encode()], delay=delay, content_type="application/json"
    )


async def _send_raw(request: web.Request, reply: RawReply) -> web.StreamResponse:
    return await _send(
        request,
        [reply.body.encode()],
        delay=reply.delay,
        status=reply.status,
        content_type=reply.content_type,
    )


def _object(body: Any) -> Json:
    return body if isinstance(body, dict) else {}
