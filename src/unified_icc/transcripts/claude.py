"""Claude Code transcript lines (``~/.claude/projects/<cwd key>/<session>.jsonl``) as AgentMessages.

Owns Claude's entry types, content blocks, tool summaries and local-command tags. Knows nothing
of files and offsets (tail.py) nor of where the messages go.

Shown: typed prompts, assistant text, thinking, tool_use / server_tool_use, tool results, local
commands (``<command-name>``, ``<local-command-stdout>``, ``!`` bash mode) and interrupts (kept
verbatim, e.g. ``[Request interrupted by user]``, as INTERRUPT so the chat sees why a turn
stopped). Skipped: every entry type but ``user`` and ``assistant`` (mode, permission-mode,
file-history-snapshot, attachment, ai-title, system, last-prompt, queue-operation, summary, ...),
and entries flagged isSidechain, isMeta, isCompactSummary or isVisibleInTranscriptOnly.
An assistant entry flagged isApiErrorMessage (the CLI's own, after its retries) is one
API_ERROR message: its text, and the problem its ``error`` field or its words name.
``<system-reminder>`` blocks are cut out of any text.
Ids: the entry ``uuid``; ``<uuid>:<index>`` when one entry yields several messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from unified_icc.events import AgentMessage, ApiProblem, MessageKind, MessageRole
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

__all__ = ["ClaudeParser", "summarize_tool_use"]

_SHOWN_TYPES: Final = frozenset({"user", "assistant"})
_HIDING_FLAGS: Final = ("isSidechain", "isMeta", "isCompactSummary", "isVisibleInTranscriptOnly")

# The one input field that says what a built-in tool acts on.
_SUMMARY_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Bash": "command",
        "Read": "file_path",
        "Write": "file_path",
        "Edit": "file_path",
        "MultiEdit": "file_path",
        "NotebookEdit": "notebook_path",
        "Glob": "pattern",
        "Grep": "pattern",
        "WebFetch": "url",
        "WebSearch": "query",
        "Task": "description",
        "Agent": "description",
        "Skill": "skill",
        "SlashCommand": "command",
    }
)

_REMINDER: Final = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)
_TAG: Final = re.compile(r"<(?P<tag>[a-z-]+)>(?P<body>.*?)</(?P=tag)>", re.DOTALL)
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_LOCAL_TAGS: Final = frozenset(
    {
        "local-command-caveat",
        "command-name",
        "command-message",
        "command-args",
        "local-command-stdout",
        "local-command-stderr",
        "bash-input",
        "bash-stdout",
        "bash-stderr",
    }
)
_OUTPUT_TAGS: Final = ("local-command-stdout", "local-command-stderr", "bash-stdout", "bash-stderr")
_INTERRUPTED: Final = "[Request interrupted by user"
# Claude's own names for an API error (the entry's ``error`` field) that say more than words.
_ERROR_NAMES: Final = MappingProxyType(
    {
        "rate_limit": ApiProblem.RATE_LIMIT,
        "authentication_failed": ApiProblem.AUTH,
        "billing_error": ApiProblem.USAGE_LIMIT,
    }
)
_NO_OUTPUT: Final = "(no output)"


class ClaudeParser:
    """Parses one Claude Code transcript; remembers tool names to label their results."""

    def __init__(self) -> None:
        self._tool_names: BoundedMemo[str] = BoundedMemo()
        self._emitted = EmittedIds()

    def order(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        """The lines sorted by their entries' timestamps (stable; a line without one keeps
        its place after the line before it). Claude 2.1 can write a prompt's entry after the
        reply to it (seen with a photo attached, on a busy machine); read in file order, the
        reply would land in the previous turn and the prompt's turn would stay empty."""
        if len(lines) < 2:
            return lines  # nothing to sort, and no line read twice
        keys, last = [], ""
        for line in lines:
            entry = load_json_object(line)
            stamp = entry.get("timestamp") if entry is not None else None
            last = stamp if isinstance(stamp, str) and stamp else last
            keys.append(last)
        if keys == sorted(keys):
            return lines
        ranked = sorted(range(len(lines)), key=keys.__getitem__)
        return tuple(lines[i] for i in ranked)

    def parse(self, line: str) -> tuple[AgentMessage, ...]:
        entry = load_json_object(line)
        if entry is None or not _is_shown(entry):
            return ()
        message = entry.get("message")
        if not isinstance(message, dict):
            return ()
        content = message.get("content")
        if entry["type"] == "assistant" and entry.get("isApiErrorMessage") is True:
            drafts = _api_error_drafts(entry, content)
        elif entry["type"] == "assistant":
            drafts = self._assistant_drafts(content)
        else:
            drafts = self._user_drafts(content)
        uuid = entry.get("uuid")
        base_id = uuid if isinstance(uuid, str) and uuid else line_digest(line)
        return self._emitted.keep_new(number_drafts(base_id, drafts))

    def _assistant_drafts(self, content: object) -> list[Draft]:
        if isinstance(content, str):
            return _text_draft(MessageRole.ASSISTANT, MessageKind.TEXT, content)
        drafts: list[Draft] = []
        for block in _blocks(content):
            match block.get("type"):
                case "text":
                    drafts += _text_draft(
                        MessageRole.ASSISTANT, MessageKind.TEXT, block.get("text")
                    )
                case "thinking":
                    drafts += _text_draft(
                        MessageRole.ASSISTANT, MessageKind.THINKING, block.get("thinking")
                    )
                case "tool_use" | "server_tool_use":
                    drafts.append(self._tool_use(block))
                case _:
                    pass  # redacted_thinking, tool results of server tools, future block types
        return drafts

    def _user_drafts(self, content: object) -> list[Draft]:
        if isinstance(content, str):
            return _typed_text(content)
        drafts: list[Draft] = []
        for block in _blocks(content):
            match block.get("type"):
                case "text":
                    text = block.get("text")
                    drafts += _typed_text(text) if isinstance(text, str) else []
                case "tool_result":
                    drafts.append(self._tool_result(block))
                case "image":
                    drafts.append(
                        Draft(role=MessageRole.USER, kind=MessageKind.TEXT, text="[image]")
                    )
                case _:
                    pass
        return drafts

    def _tool_use(self, block: dict[str, Any]) -> Draft:
        tool_id = _text_field(block, "id")
        name = _text_field(block, "name") or "tool"
        if tool_id:
            self._tool_names.put(tool_id, name)
        return Draft(
            role=MessageRole.ASSISTANT,
            kind=MessageKind.TOOL_USE,
            text=summarize_tool_use(name, block.get("input")),
            tool_name=name,
            tool_id=tool_id or None,
        )

    def _tool_result(self, block: dict[str, Any]) -> Draft:
        tool_id = _text_field(block, "tool_use_id")
        text = _flatten(block.get("content")) or _NO_OUTPUT
        if block.get("is_error") is True:
            text = ERROR_PREFIX + text
        return Draft(
            role=MessageRole.ASSISTANT,
            kind=MessageKind.TOOL_RESULT,
            text=text,
            # None when the call was delivered before a restart: the parser never saw it.
            tool_name=self._tool_names.get(tool_id) if tool_id else None,
            tool_id=tool_id or None,
        )


def _api_error_drafts(entry: dict[str, Any], content: object) -> list[Draft]:
    texts = [content] if isinstance(content, str) else [
        block.get("text") for block in _blocks(content) if block.get("type") == "text"
    ]
    words = "\n".join(t.strip() for t in texts if isinstance(t, str) and t.strip())
    words = words or "API Error"
    named = _ERROR_NAMES.get(str(entry.get("error")))
    problem = classify_api_error(words)
    if named is not None and problem is not ApiProblem.USAGE_LIMIT:
        problem = named
    return [Draft(role=MessageRole.ASSISTANT, kind=MessageKind.API_ERROR, text=words,
                  problem=problem)]  # fmt: skip


def summarize_tool_use(name: str, tool_input: object) -> str:
    """One line naming the tool and what it acts on: ``Bash: touch x.txt``, ``Read: a.py``."""
    field = _SUMMARY_FIELDS.get(name)
    if field and isinstance(tool_input, dict):
        value = tool_input.get(field)
        if isinstance(value, str) and value.strip():
            return f"{name}: {one_line(value)}"
    if not tool_input:
        return name
    return f"{name}: {compact_json(tool_input)}"


def _is_shown(entry: dict[str, Any]) -> bool:
    if entry.get("type") not in _SHOWN_TYPES:
        return False
    return not any(entry.get(flag) is True for flag in _HIDING_FLAGS)


def _typed_text(raw: str) -> list[Draft]:
    """What a user-side text block shows: a prompt, a local command notice, or nothing."""
    text = _REMINDER.sub("", raw).strip()
    if not text:
        return []
    if text.startswith(_INTERRUPTED):
        return [Draft(role=MessageRole.USER, kind=MessageKind.INTERRUPT, text=text)]
    tags = {m["tag"]: m["body"] for m in _TAG.finditer(text) if m["tag"] in _LOCAL_TAGS}
    if not tags or not text.startswith("<"):
        return [Draft(role=MessageRole.USER, kind=MessageKind.TEXT, text=text)]
    notice = _local_command_text(tags)
    if not notice:
        return []
    return [Draft(role=MessageRole.USER, kind=MessageKind.LOCAL_COMMAND, text=notice)]


def _local_command_text(tags: dict[str, str]) -> str:
    """``/model opus``, ``! ls``, or the command's output; empty for the caveat or no output."""
    if "command-name" in tags:
        return f"{tags['command-name'].strip()} {tags.get('command-args', '').strip()}".strip()
    if "bash-input" in tags:
        return "! " + tags["bash-input"].strip()
    outputs = (_ANSI.sub("", tags[tag]).strip() for tag in _OUTPUT_TAGS if tag in tags)
    return "\n".join(output for output in outputs if output)


def _flatten(content: object) -> str:
    """A tool result's content as plain text; images become ``[image]``."""
    if isinstance(content, str):
        parts = [content]
    else:
        parts = []
        for block in _blocks(content):
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "image":
                parts.append("[image]")
    cleaned = (_REMINDER.sub("", part).strip("\n").rstrip() for part in parts)
    return "\n".join(part for part in cleaned if part)


def _text_draft(role: MessageRole, kind: MessageKind, value: object) -> list[Draft]:
    if not isinstance(value, str) or not value.strip():
        return []
    return [Draft(role=role, kind=kind, text=value.strip())]


def _text_field(block: dict[str, Any], key: str) -> str:
    value = block.get(key)
    return value if isinstance(value, str) else ""


def _blocks(content: object) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return []
    return [block for block in content if isinstance(block, dict)]
