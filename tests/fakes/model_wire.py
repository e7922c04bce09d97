"""How each fake model API writes a reply on the wire: Anthropic Messages (JSON or SSE),
OpenAI Responses (SSE) and Gemini (JSON or SSE), and the HTTP responses that carry them.

Owns the formats only; which reply a request gets is model_apis.py's.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = [
    "ERROR_STATUSES",
    "RawReply",
    "Reply",
    "anthropic_message",
    "anthropic_stream",
    "api_error",
    "gemini_parts",
    "gemini_response",
    "gemini_stream",
    "responses_stream",
    "send",
    "send_json",
    "send_raw",
]

CHUNK_CHARS = 24
USAGE = {"input_tokens": 10, "output_tokens": 5}

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


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


def _fake_id(prefix: str) -> str:
    return f"{prefix}_fake_{uuid.uuid4().hex[:24]}"


def _sse(data: Json, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


# Anthropic Messages ---------------------------------------------------------------------------


def anthropic_message(reply: Reply, model: str) -> Json:
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


def anthropic_stream(reply: Reply, model: str) -> Iterator[bytes]:
    message = anthropic_message(reply, model)
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


def responses_stream(reply: Reply, model: str, *, escalate: bool) -> Iterator[bytes]:
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


def gemini_parts(reply: Reply) -> list[Json]:
    parts: list[Json] = []
    if reply.text:
        parts.append({"text": reply.text})
    if reply.command is not None:
        call = {"name": "run_shell_command", "args": {"command": reply.command}}
        parts.append({"functionCall": call})
    return parts or [{"text": ""}]


def gemini_response(parts: list[Json], model: str, *, last: bool = True) -> Json:
    candidate: Json = {"content": {"role": "model", "parts": parts}, "index": 0}
    answer: Json = {"candidates": [candidate], "modelVersion": model}
    if last:
        candidate["finishReason"] = "STOP"
        counts = {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}
        answer["usageMetadata"] = counts
    return answer


def gemini_stream(reply: Reply, model: str) -> Iterator[bytes]:
    parts = gemini_parts(reply)
    for index, part in enumerate(parts):
        yield _sse(gemini_response([part], model, last=index == len(parts) - 1))


# The servers ----------------------------------------------------------------------------------


async def send(
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


async def send_json(request: web.Request, data: Json, delay: float) -> web.StreamResponse:
    return await send(
        request, [json.dumps(data).encode()], delay=delay, content_type="application/json"
    )


async def send_raw(request: web.Request, reply: RawReply) -> web.StreamResponse:
    return await send(
        request,
        [reply.body.encode()],
        delay=reply.delay,
        status=reply.status,
        content_type=reply.content_type,
    )


# What each API answers when it refuses: rate limit, bad key, overloaded (its own code).
ERROR_STATUSES: dict[str, tuple[int, ...]] = {
    "claude": (429, 401, 529),
    "codex": (429, 401, 503),
    "gemini": (429, 401, 503),
}
_ERROR_TYPES = {429: "rate_limit_error", 401: "authentication_error", 529: "overloaded_error",
                503: "overloaded_error"}  # fmt: skip
_ERROR_WORDS = {
    429: "Fake rate limit: too many requests",
    401: "Fake key rejected: invalid x-api-key",
    529: "Fake overload: the API is overloaded",
    503: "Fake overload: the model is overloaded",
}
_GOOGLE_STATUS = {429: "RESOURCE_EXHAUSTED", 401: "UNAUTHENTICATED", 503: "UNAVAILABLE"}
_OPENAI_CODES = {429: "rate_limit_exceeded", 401: "invalid_api_key", 503: "server_is_overloaded"}


def api_error(provider: str, status: int) -> RawReply:
    """The error answer of provider's API (claude: Anthropic, codex: OpenAI, gemini: Google)."""
    words = _ERROR_WORDS[status]
    if provider == "claude":
        body: Json = {"type": "error", "error": {"type": _ERROR_TYPES[status], "message": words}}
    elif provider == "codex":
        body = {"error": {"message": words, "type": _ERROR_TYPES[status],
                          "code": _OPENAI_CODES[status]}}  # fmt: skip
    else:
        if status == 503:  # Gemini then retries 10 times in seconds, not for minutes
            words += ". Please retry in 0.2s."
        error: Json = {"code": status, "message": words, "status": _GOOGLE_STATUS[status]}
        if status in _GOOGLE_DETAILS:
            error["details"] = _GOOGLE_DETAILS[status]
        body = {"error": error}
    return RawReply(body=json.dumps(body), status=status)


# Google's details as its API sends them for a spent daily quota, which Gemini reports at once
# (as a dialog); without them it retries for minutes first.
_GOOGLE_DETAILS: dict[int, list[Json]] = {
    429: [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
           "violations": [{"quotaMetric": "generativelanguage.googleapis.com/"
                                          "generate_content_free_tier_requests",
                           "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                           "quotaValue": "250"}]},
          {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3600s"}],
}  # fmt: skip
