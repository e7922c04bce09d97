"""Gemini CLI chat lines (``~/.gemini/.../chats/session-*.jsonl``) as AgentMessages.

Owns the chat record format: the header line, message records, ``{"$set": …}`` patches and
tool calls. Knows nothing of offsets (tail.py) nor of which window a chat belongs to.

A record is an upsert keyed by its ``id``: Gemini writes a model message, then writes it again
with ``toolCalls`` once the tools ran. So every part has its own id and is yielded once:
``<record id>`` for the text, ``<record id>:thought:<n>`` for thoughts, ``<call id>`` for a tool
call and ``<call id>:result`` for its result. A result is taken from the model record's toolCalls;
the user record that repeats it as a ``functionResponse`` then yields nothing (it is used only if
the toolCalls result never came). ``$set`` patches are read only for the ``messages`` they set;
the ``<session_context>`` prompt the CLI injects is skipped. info, warning and error records are
CLI notices (LOCAL_COMMAND); error text starts with ERROR_PREFIX, except ``[API Error: …]``
(the model API refused the turn, after the CLI's retries), an API_ERROR; notices that only
make sense in the terminal (``Press F12 for diagnostics``) are skipped.

A cancelled turn (a refused tool call, Escape) makes Gemini restate the history it keeps: it
appends a ``<session_context>`` user record and then every earlier exchange again under new
ids (the cancelled turn left out), ending with a ``$set`` of those messages. Identity is then
the record's content (its type, text and tool-call ids), not its id: while a restatement runs,
a record saying what an earlier one said yields nothing; the first one that says something new
ends it, as does the closing ``$set``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from unified_icc.events import AgentMessage, MessageKind, MessageRole
from unified_icc.transcripts.api_errors import classify_api_error
from unified_icc.transcripts.base import (
    ERROR_PREFIX,
    BoundedMemo,
    EmittedIds,
    compact_json,
    line_digest,
    load_json_object,
    one_line,
)

__all__ = ["GeminiParser", "summarize_tool_call"]

_HARNESS_PREFIXES: Final = ("<session_context>",)
_API_ERROR: Final = "[API Error:"
# Notices that only make sense in the terminal (a key to press there).
_TUI_HINTS: Final = ("This request failed. Press F12",)
_NOTICE_PREFIXES: Final = {"info": "", "warning": "[warning] ", "error": ERROR_PREFIX}
_FINISHED: Final = frozenset({"success", "error", "cancelled"})
_FAILED: Final = frozenset({"error", "cancelled"})
_UNTRUSTED: Final = re.compile(
    r"\A\s*<untrusted_context>\n?(.*?)\n?</untrusted_context>\s*\Z", re.S
)
_NO_OUTPUT: Final = "(no output)"


class GeminiParser:
    """Parses one Gemini chat file; remembers which parts of each record it already yielded."""

    def __init__(self) -> None:
        self._emitted = EmittedIds()
        self._said: BoundedMemo[None] = BoundedMemo()  # what the records so far said
        self._restating = False

    def order(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        return lines  # written in the order they were made

    def parse(self, line: str) -> tuple[AgentMessage, ...]:
        entry = load_json_object(line)
        if entry is None:
            return ()
        patch = entry.get("$set")
        if isinstance(patch, dict):
            records = [r for r in patch.get("messages") or () if isinstance(r, dict)]
        elif isinstance(entry.get("type"), str) and "id" in entry:
            records = [entry]
            if _opens_context(entry):
                self._restating = True
        else:
            return ()  # the header line, or something newer we do not know
        messages: list[AgentMessage] = []
        for record in records:
            messages += self._new_messages(record)
        if records and patch is not None:
            self._restating = False
        return self._emitted.keep_new(messages)

    def _new_messages(self, record: dict[str, Any]) -> list[AgentMessage]:
        said = _fingerprint(record)
        messages = _record_messages(record)
        if self._restating and said in self._said:
            self._emitted.keep_new(messages)  # known under its new id too: never yielded
            return []
        if self._restating and messages:
            self._restating = False
        self._said.put(said, None)
        return messages


def summarize_tool_call(call: dict[str, Any]) -> str:
    """One line for a tool call, as the TUI labels it: ``Shell: touch g.txt``."""
    label = _text(call.get("displayName")) or _text(call.get("name")) or "tool"
    description = _text(call.get("description")).strip()
    if description:
        return f"{label}: {one_line(description)}"
    args = call.get("args")
    if isinstance(args, dict) and isinstance(args.get("command"), str):
        return f"{label}: {one_line(args['command'])}"
    return f"{label}: {compact_json(args)}" if args else label


def _opens_context(record: dict[str, Any]) -> bool:
    """The user record that starts Gemini's history (again, after a cancelled turn)."""
    text = _content_text(record.get("content"))
    return record.get("type") == "user" and text.startswith(_HARNESS_PREFIXES)


def _fingerprint(record: dict[str, Any]) -> str:
    """What a record says: its type, text and the tool calls it makes or answers."""
    calls = [_text(call.get("id")) for call in record.get("toolCalls") or ()
             if isinstance(call, dict)]  # fmt: skip
    for part in _parts(record.get("content")):
        for key in ("functionCall", "functionResponse"):
            if isinstance(part.get(key), dict):
                calls.append(_text(part[key].get("id")))
    said = [_text(record.get("type")), _content_text(record.get("content")), *sorted(calls)]
    return _digest(said)


def _record_messages(record: dict[str, Any]) -> list[AgentMessage]:
    record_id = _text(record.get("id")) or _digest(record)
    match record.get("type"):
        case "user":
            return _user_messages(record_id, record.get("content"))
        case "gemini":
            return _model_messages(record_id, record)
        case "info" | "warning" | "error" as kind:
            text = _content_text(record.get("content"))
            if not text:
                return []
            if kind == "error" and text.startswith(_API_ERROR):
                return [_api_error_message(record_id, text)]
            if text.startswith(_TUI_HINTS):
                return []
            return [
                _message(
                    record_id,
                    MessageRole.USER,
                    MessageKind.LOCAL_COMMAND,
                    _NOTICE_PREFIXES[kind] + text,
                )
            ]
        case _:
            return []


def _api_error_message(record_id: str, text: str) -> AgentMessage:
    """``[API Error: <the API's JSON error, or words>]``: its message, and what it names."""
    inner = text.removeprefix(_API_ERROR).strip().removesuffix("]").strip()
    try:
        error = json.loads(inner).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        words = f"{error['message']} ({error.get('status') or error.get('code')})"
        status = error.get("code") if isinstance(error.get("code"), int) else None
    else:
        words, status = inner or text, None
    return AgentMessage(id=record_id, role=MessageRole.ASSISTANT, kind=MessageKind.API_ERROR,
                        text=words, problem=classify_api_error(words, status=status))  # fmt: skip


def _user_messages(record_id: str, content: object) -> list[AgentMessage]:
    messages: list[AgentMessage] = []
    for part in _parts(content):
        response = part.get("functionResponse")
        if isinstance(response, dict):
            messages.append(_result_message(response, failed=False))
    text = _content_text(content)
    if text and not text.startswith(_HARNESS_PREFIXES):
        messages.insert(0, _message(record_id, MessageRole.USER, MessageKind.TEXT, text))
    return messages


def _model_messages(record_id: str, record: dict[str, Any]) -> list[AgentMessage]:
    messages: list[AgentMessage] = []
    for index, thought in enumerate(t for t in record.get("thoughts") or () if isinstance(t, dict)):
        text = "\n".join(
            _text(thought.get(key)).strip()
            for key in ("subject", "description")
            if _text(thought.get(key)).strip()
        )
        if text:
            messages.append(
                _message(
                    f"{record_id}:thought:{index}",
                    MessageRole.ASSISTANT,
                    MessageKind.THINKING,
                    text,
                )
            )
    text = _content_text(record.get("content"))
    if text:
        messages.append(_message(record_id, MessageRole.ASSISTANT, MessageKind.TEXT, text))
    for call in record.get("toolCalls") or ():
        if isinstance(call, dict):
            messages += _call_messages(call)
    return messages


def _call_messages(call: dict[str, Any]) -> list[AgentMessage]:
    call_id = _text(call.get("id")) or _digest(call)
    name = _text(call.get("name")) or "tool"
    messages = [
        AgentMessage(
            id=call_id,
            role=MessageRole.ASSISTANT,
            kind=MessageKind.TOOL_USE,
            text=summarize_tool_call(call),
            tool_name=name,
            tool_id=call_id,
        )
    ]
    status = _text(call.get("status"))
    responses = [
        part["functionResponse"]
        for part in _parts(call.get("result"))
        if isinstance(part.get("functionResponse"), dict)
    ]
    if responses or status in _FINISHED:
        response = responses[0] if responses else {"id": call_id, "name": name, "response": {}}
        messages.append(_result_message(response, failed=status in _FAILED, call=call))
    return messages


def _result_message(
    response: dict[str, Any], *, failed: bool, call: dict[str, Any] | None = None
) -> AgentMessage:
    call_id = _text(response.get("id")) or (_text(call.get("id")) if call else "") or "unknown"
    body = response.get("response")
    text = _response_text(body)
    if not text and call is not None:
        text = _text(call.get("resultDisplay")).strip()
    failed = failed or (isinstance(body, dict) and "error" in body)
    text = text or _NO_OUTPUT
    return AgentMessage(
        id=f"{call_id}:result",
        role=MessageRole.ASSISTANT,
        kind=MessageKind.TOOL_RESULT,
        text=ERROR_PREFIX + text if failed else text,
        tool_name=_text(response.get("name")) or None,
        tool_id=call_id,
    )


def _response_text(body: object) -> str:
    """A functionResponse's payload as text, without the CLI's untrusted-context wrapper."""
    if isinstance(body, dict):
        value = body.get("output", body.get("error", body.get("content")))
        if isinstance(value, str):
            text = value
        else:
            text = json.dumps(body, ensure_ascii=False) if body else ""
    else:
        text = _text(body)
    unwrapped = _UNTRUSTED.match(text)
    return (unwrapped.group(1) if unwrapped else text).strip("\n").rstrip()


def _content_text(content: object) -> str:
    """The text of a record's content: a string, or the ``text`` of its parts."""
    if isinstance(content, str):
        return content.strip()
    texts = (_text(part.get("text")).strip() for part in _parts(content) if "text" in part)
    return "\n".join(text for text in texts if text)


def _message(message_id: str, role: MessageRole, kind: MessageKind, text: str) -> AgentMessage:
    return AgentMessage(id=message_id, role=role, kind=kind, text=text)


def _parts(content: object) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return []
    return [part for part in content if isinstance(part, dict)]


def _digest(value: object) -> str:
    return line_digest(json.dumps(value, sort_keys=True, default=str))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
