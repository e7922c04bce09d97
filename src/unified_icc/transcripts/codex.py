"""Codex CLI rollout lines (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``) as AgentMessages.

Owns the rollout's item types, the exec-output format and the session_meta header. Knows nothing
of offsets (tail.py) nor of which window a rollout belongs to.

Only ``response_item`` lines are read: they are the conversation as sent to the model.
``event_msg`` lines (user_message, agent_message, agent_reasoning, item_completed, ...) repeat
the same content for the TUI, so reading both would report every reply twice; the
exceptions are ``turn_aborted`` (the person stopped the turn, and no Stop hook follows), read
as an INTERRUPT, and a ``task_complete`` carrying an ``error`` (the model API refused the turn
after Codex's retries), read as an API_ERROR. session_meta, turn_context, world_state,
token_usage_record and compacted lines carry no messages.
User messages the harness injects (environment context, instructions) are skipped, by their
per-part provenance where the rollout records it and by their leading tag otherwise.
Ids: the item's own ``id`` (``msg_…``, ``fc_…``, ``fco_…``, ``rs_…``); items without one get a hash
of the line, so two byte-identical lines count as one entry.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any, Final

from unified_icc.events import AgentMessage, MessageKind, MessageRole
from unified_icc.transcripts.api_errors import classify_api_error
from unified_icc.transcripts.base import (
    ERROR_PREFIX,
    BoundedMemo,
    Draft,
    EmittedIds,
    compact_json,
    line_digest,
    load_json_object,
    number_drafts,
    one_line,
)

__all__ = ["CodexParser", "read_session_meta", "summarize_call"]

_HARNESS_PREFIXES: Final = (
    "<environment_context>",
    "<user_instructions>",
    "<permissions instructions>",
    "<skills_instructions>",
    "<collaboration_mode>",
    "# AGENTS.md instructions",
)
_SHELL_TOOLS: Final = frozenset({"exec_command", "shell", "shell_command", "local_shell"})
# Newer exec output: a header ("Chunk ID", "Wall time", "Process exited with code N", ...) then
# "Output:" and the command's own output.
_EXEC_HEADER: Final = re.compile(
    r"\A(?:[A-Za-z ]+:[^\n]*\n)*?Process exited with code (?P<code>-?\d+)\n"
    r"(?:[A-Za-z ]+:[^\n]*\n)*?Output:\n?",
)
_PATCH_FILE: Final = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.MULTILINE)
_NO_OUTPUT: Final = "(no output)"
# A session_meta line embeds the whole system prompt (22 kB in the 0.169 sample).
_META_LINE_LIMIT: Final = 4 << 20


class CodexParser:
    """Parses one Codex rollout; remembers call names to label their outputs."""

    def __init__(self) -> None:
        self._call_names: BoundedMemo[str] = BoundedMemo()
        self._emitted = EmittedIds()

    def order(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        return lines  # written in the order they were made

    def parse(self, line: str) -> tuple[AgentMessage, ...]:
        entry = load_json_object(line)
        item = entry.get("payload") if entry is not None else None
        if not isinstance(item, dict):
            return ()
        if entry is not None and entry.get("type") == "event_msg":
            return self._event(item, line)
        if entry is None or entry.get("type") != "response_item":
            return ()
        drafts = self._item_drafts(item)
        item_id = item.get("id")
        base_id = item_id if isinstance(item_id, str) and item_id else line_digest(line)
        return self._emitted.keep_new(number_drafts(base_id, drafts))

    def _event(self, event: dict[str, Any], line: str) -> tuple[AgentMessage, ...]:
        turn = event.get("turn_id")
        turn_id = turn if isinstance(turn, str) and turn else line_digest(line)
        match event.get("type"):
            case "turn_aborted":
                reason = _text(event.get("reason")) or "interrupted"
                draft = Draft(role=MessageRole.USER, kind=MessageKind.INTERRUPT,
                              text=f"[Turn {reason} by user]")  # fmt: skip
                base_id = f"abort_{turn_id}"
            case "task_complete" if isinstance(event.get("error"), dict):
                draft, base_id = _api_error_draft(event["error"]), f"error_{turn_id}"
            case _:
                return ()
        return self._emitted.keep_new(number_drafts(base_id, [draft]))

    def _item_drafts(self, item: dict[str, Any]) -> list[Draft]:
        match item.get("type"):
            case "message":
                return _message_drafts(item)
            case "reasoning":
                return _reasoning_drafts(item)
            case "function_call" | "custom_tool_call" | "local_shell_call":
                return [self._call(item)]
            case "function_call_output" | "custom_tool_call_output":
                return [self._call_output(item)]
            case _:
                return []

    def _call(self, item: dict[str, Any]) -> Draft:
        call_id = _text(item.get("call_id"))
        name = _text(item.get("name")) or ("local_shell" if "action" in item else "tool")
        if call_id:
            self._call_names.put(call_id, name)
        return Draft(
            role=MessageRole.ASSISTANT,
            kind=MessageKind.TOOL_USE,
            text=summarize_call(name, _call_arguments(item)),
            tool_name=name,
            tool_id=call_id or None,
        )

    def _call_output(self, item: dict[str, Any]) -> Draft:
        call_id = _text(item.get("call_id"))
        return Draft(
            role=MessageRole.ASSISTANT,
            kind=MessageKind.TOOL_RESULT,
            text=_output_text(item.get("output")),
            tool_name=self._call_names.get(call_id) if call_id else None,
            tool_id=call_id or None,
        )


def summarize_call(name: str, arguments: object) -> str:
    """One line for a tool call: ``exec: <cmd>``, ``apply_patch: a.py, b.py``, ``name: {json}``."""
    if name in _SHELL_TOOLS and isinstance(arguments, dict):
        command = _shell_command(arguments)
        if command:
            return f"exec: {one_line(command)}"
    if name == "apply_patch" and isinstance(arguments, str):
        files = _PATCH_FILE.findall(arguments)
        if files:
            return "apply_patch: " + one_line(", ".join(files))
    if not arguments:
        return name
    if isinstance(arguments, str):
        return f"{name}: {one_line(arguments)}"
    return f"{name}: {compact_json(arguments)}"


def read_session_meta(path: Path) -> tuple[str, str] | None:
    """The ``(session id, cwd)`` a rollout's session_meta line records, or None.

    None when the file is missing, unreadable, or does not start with a complete session_meta
    line (yet). Blocking: reads the first line only.
    """
    try:
        with path.open("rb") as handle:
            first = handle.readline(_META_LINE_LIMIT)
    except OSError:
        return None
    if not first.endswith(b"\n"):
        return None
    entry = load_json_object(first.decode("utf-8", "replace"))
    if entry is None or entry.get("type") != "session_meta":
        return None
    payload = entry.get("payload")
    if not isinstance(payload, dict):
        return None
    session_id, cwd = payload.get("id"), payload.get("cwd")
    if isinstance(session_id, str) and session_id and isinstance(cwd, str) and cwd:
        return session_id, cwd
    return None


def _message_drafts(item: dict[str, Any]) -> list[Draft]:
    role = item.get("role")
    if role not in ("user", "assistant"):
        return []  # developer and system messages are the harness talking to the model
    parts = [part for part in item.get("content") or () if isinstance(part, dict)]
    if role == "user":
        texts = _user_texts(parts, _provenances(item))
        kind_role = MessageRole.USER
    else:
        texts = [_text(part.get("text")) for part in parts if part.get("type") == "output_text"]
        kind_role = MessageRole.ASSISTANT
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    return [Draft(role=kind_role, kind=MessageKind.TEXT, text=text)] if text else []


def _user_texts(parts: list[dict[str, Any]], provenances: list[str | None]) -> list[str]:
    texts: list[str] = []
    for index, part in enumerate(parts):
        origin = provenances[index] if index < len(provenances) else None
        if origin not in (None, "user"):
            continue
        if part.get("type") == "input_image":
            texts.append("[image]")
            continue
        text = _text(part.get("text")).strip()
        if text and not text.startswith(_HARNESS_PREFIXES):
            texts.append(text)
    return texts


def _provenances(item: dict[str, Any]) -> list[str | None]:
    """Who wrote each content part (``user``, ``harness``, ``skills``), where recorded."""
    metadata = item.get("internal_chat_message_metadata_passthrough")
    if not isinstance(metadata, dict):
        return []
    found: list[str | None] = []
    for part in metadata.get("content_item_metadata") or ():
        provenance = part.get("provenance") if isinstance(part, dict) else None
        kind = provenance.get("type") if isinstance(provenance, dict) else None
        found.append(kind if isinstance(kind, str) else None)
    return found


def _reasoning_drafts(item: dict[str, Any]) -> list[Draft]:
    texts: list[str] = []
    for key in ("summary", "content"):
        for part in item.get(key) or ():
            if isinstance(part, dict) and _text(part.get("text")).strip():
                texts.append(_text(part.get("text")).strip())
        if texts:
            break  # the summary when there is one; the raw reasoning only otherwise
    text = "\n\n".join(texts)
    return [Draft(role=MessageRole.ASSISTANT, kind=MessageKind.THINKING, text=text)] if text else []


def _call_arguments(item: dict[str, Any]) -> object:
    if "action" in item:  # local_shell_call
        return item.get("action")
    if "input" in item:  # custom_tool_call: free text, e.g. a patch
        return item.get("input")
    raw = item.get("arguments")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _shell_command(arguments: dict[str, Any]) -> str:
    command = arguments.get("cmd", arguments.get("command"))
    if isinstance(command, str):
        return command
    if isinstance(command, list) and all(isinstance(word, str) for word in command):
        # ["bash", "-lc", "<script>"] is how older Codex wrapped every command.
        if len(command) == 3 and command[1] in ("-lc", "-c"):
            return str(command[2])
        return shlex.join(command)
    return ""


def _output_text(output: object) -> str:
    """A call output as text; a non-zero exit becomes ``[error] exit code N`` and the output."""
    if isinstance(output, list):
        output = "\n".join(_text(part.get("text")) for part in output if isinstance(part, dict))
    text = _text(output)
    code: int | None = None
    structured = load_json_object(text) if text.startswith("{") else None
    if structured is not None and isinstance(structured.get("output"), str):
        # Older Codex: {"output": "...", "metadata": {"exit_code": N, ...}}
        metadata = structured.get("metadata")
        exit_code = metadata.get("exit_code") if isinstance(metadata, dict) else None
        code = exit_code if isinstance(exit_code, int) else None
        text = structured["output"]
    elif header := _EXEC_HEADER.match(text):
        code = int(header["code"])
        text = text[header.end() :]
    body = text.strip("\n").rstrip()
    if code:
        return f"{ERROR_PREFIX}exit code {code}" + (f"\n{body}" if body else "")
    return body or _NO_OUTPUT


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _api_error_draft(error: dict[str, Any]) -> Draft:
    """A turn the model API refused: the CLI's words, and the problem they name."""
    words = _text(error.get("message")).strip() or "the model request failed"
    info = error.get("codex_error_info")
    named = info if isinstance(info, str) else " ".join(info) if isinstance(info, dict) else ""
    problem = classify_api_error(f"{words} {named.replace('_', ' ')}", status=_http_status(info))
    return Draft(role=MessageRole.ASSISTANT, kind=MessageKind.API_ERROR, text=words,
                 problem=problem)  # fmt: skip


def _http_status(info: object) -> int | None:
    """The ``http_status_code`` anywhere in Codex's error details."""
    if isinstance(info, dict):
        status = info.get("http_status_code")
        if isinstance(status, int):
            return status
        return next((s for v in info.values() if (s := _http_status(v)) is not None), None)
    return None
