"""ChatTools: what the #ask orchestrator may do, which is what its chat may do and no more.

Owns the tools' names, their argument schemas (sent to the model) and their checks: sessions
are the chat's own windows only (another chat's window is refused, and an orphan is not
offered); a folder must lie inside the workspace roots after resolving symlinks and ``..``,
as in the #new wizard; only installed agents start; standard mode unless the person's own
words asked for yolo. Closing a session and starting one in yolo are not done here: they come
back as a ``PendingAction`` for the person to confirm, and ``perform`` runs one once they
have. Every result has a line for the chat and a text for the model. Calls only the
gateway's public API; knows nothing of the model's endpoint or of Feishu.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cclark.handlers.user_input import folder_name_problem, path_problem, shortened
from unified_icc import (
    AgentStatus,
    ChannelId,
    UnifiedICC,
    UnifiedICCError,
    WindowId,
    WindowInfo,
    WindowNotFoundError,
    Workspace,
)

__all__ = ["MAX_SCREEN_LINES", "ChatTools", "PendingAction", "ToolResult", "tool_schemas"]

MAX_SCREEN_LINES: Final = 200
PATH_CHARS: Final = 160  # of a folder quoted in a refusal (a path the model chose is long)
_YOLO_WORDS: Final = re.compile(r"\b(?:yolo|bypass)\b", re.IGNORECASE)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListSessions(_Args):
    """List this chat's sessions: id, agent, mode, folder, state, and which one the chat
    talks to now."""


class StartSession(_Args):
    """Start an agent session in a folder inside the workspace; the chat then talks to it.
    Standard mode unless the person asked for yolo in their own words (yolo is confirmed by
    them first)."""

    folder: str = Field(description="A folder inside the workspace: relative to the "
                        "workspace root (e.g. projects/app) or absolute.")  # fmt: skip
    provider: str = Field(description="The agent to run: one of the installed providers.")
    mode: Literal["standard", "yolo"] = "standard"
    create: bool = Field(default=False, description="Create the folder (and missing parents "
                         "inside the workspace) when it does not exist.")  # fmt: skip


class SendText(_Args):
    """Type text into one of this chat's sessions and submit it (the chat then talks to that
    session, and its reply comes to the chat)."""

    text: str = Field(min_length=1, description="What to type, e.g. a prompt or a command.")
    session: str | None = Field(default=None, description="The session's id as list_sessions "
                                "shows it (e.g. @3); omitted: the chat's own.")  # fmt: skip


class ReadOutput(_Args):
    """Read the last lines on a session's screen."""

    session: str | None = Field(default=None, description="The session's id; omitted: the "
                                "one the chat talks to.")  # fmt: skip
    lines: int = Field(default=40, ge=1, le=MAX_SCREEN_LINES)


class SwitchSession(_Args):
    """Make the chat talk to another of its sessions."""

    session: str = Field(description="The session's id as list_sessions shows it (e.g. @3).")


class CloseSession(_Args):
    """Close one of this chat's sessions (stops its agent). The person confirms it first."""

    session: str | None = Field(default=None, description="The session's id; omitted: the "
                                "one the chat talks to.")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAction:
    """A close or a yolo start that waits for the person's yes."""

    kind: Literal["close", "start"]
    question: str  # what the person is asked, e.g. "Close window @3 (shell in /ws/app)?"
    window: WindowId | None = None
    start: StartSession | None = None
    folder: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    """What one tool call did: a line for the chat, a text for the model."""

    line: str
    content: str
    refused: bool = False  # the tool layer would not do it (reported and audited as such)
    confirm: PendingAction | None = None
    window: WindowId | None = None


_Run = Callable[[ChannelId, Any, str], Awaitable[ToolResult]]


class _Refused(Exception):
    """A tool call the chat's powers do not cover; the message says why."""


class ChatTools:
    def __init__(self, *, gateway: UnifiedICC) -> None:
        self._gateway = gateway
        self._tools: Mapping[str, tuple[type[_Args], _Run]] = {
            "list_sessions": (ListSessions, self._list),
            "start_session": (StartSession, self._start),
            "send_text": (SendText, self._send),
            "read_output": (ReadOutput, self._read),
            "switch_session": (SwitchSession, self._switch),
            "close_session": (CloseSession, self._close),
        }
        self._schemas = tool_schemas(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """The tools as the chat-completions API takes them."""
        return self._schemas

    def installed(self) -> list[str]:
        """The providers whose CLI is installed, the only ones start_session starts."""
        return [name for name, ok in self._gateway.installed_providers() if ok]

    def workspace(self) -> Workspace:
        """The roots start_session's folders must lie in."""
        return Workspace(self._gateway.config.gateway.workspace_roots)

    def sessions_summary(self, channel: ChannelId) -> str:
        """The chat's sessions in a few lines (for the model's instructions)."""
        own = self._own(channel)
        if not own:
            return "This chat has no sessions."
        return "\n".join(self._describe(channel, info) for info in own)

    async def call(self, channel: ChannelId, name: str, arguments: str, asked: str) -> ToolResult:
        """Run one tool call for the chat; ``asked`` is the person's request (its own words
        decide whether yolo was asked for). Never raises for a bad call: the result says."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(self._tools)
            return _malformed(name, f"there is no tool {shortened(name, limit=40)!r} "
                                    f"(there are: {known})")  # fmt: skip
        model, run = tool
        try:
            parsed = model.model_validate(json.loads(arguments or "{}"))
        except (ValueError, ValidationError) as exc:
            return _malformed(name, _argument_problem(exc))
        try:
            return await run(channel, parsed, asked)
        except _Refused as exc:
            return ToolResult(line=f"⛔ {name} refused: {exc}", content=f"Refused: {exc}",
                              refused=True)  # fmt: skip
        except UnifiedICCError as exc:
            return ToolResult(line=f"⚠️ {name} failed: {exc}", content=f"Failed: {exc}")

    async def perform(self, channel: ChannelId, action: PendingAction) -> str:
        """Do a confirmed action, checked again as it stands now; the chat's line about it."""
        try:
            if action.kind == "close" and action.window is not None:
                info = self._own_window(channel, action.window)
                await self._gateway.kill_window(info.window_id)
                return f"Closed window {info.window_id}."
            if action.start is not None and action.folder is not None:
                info = await self._launch(channel, action.start, action.folder)
                return f"Started window {info.window_id}: {_what(info)} in {info.cwd}."
        except (_Refused, UnifiedICCError) as exc:
            return f"Not done: {exc}"
        return "Not done: nothing was waiting for a confirmation."

    # -- tools ---------------------------------------------------------------------------------

    async def _list(self, channel: ChannelId, args: ListSessions, asked: str) -> ToolResult:
        own = self._own(channel)
        return ToolResult(line=f"🔧 list_sessions → {len(own)} session(s)",
                          content=self.sessions_summary(channel))  # fmt: skip

    async def _start(self, channel: ChannelId, args: StartSession, asked: str) -> ToolResult:
        self._check_provider(args.provider)  # first: a refused call creates no folder
        folder = self._folder(args.folder, create=args.create)
        what = f"{args.provider} in {folder}"
        if args.mode == "yolo":
            if not _YOLO_WORDS.search(asked):
                raise _Refused("yolo mode runs everything without asking, and your message did "
                               "not ask for it: start in standard mode, or say yolo")  # fmt: skip
            question = f"Start {what} in yolo mode (it runs everything without asking)?"
            pending = PendingAction(kind="start", question=question, start=args, folder=folder)
            return ToolResult(line=f"🔧 start_session {what} (yolo) → asking you to confirm",
                              content="The person was asked to confirm the yolo start; it "
                                      "has not started.", confirm=pending)  # fmt: skip
        info = await self._launch(channel, args, folder)
        return ToolResult(line=f"🔧 start_session {what} → window {info.window_id}",
                          content=f"Started window {info.window_id}: {_what(info)} in "
                                  f"{info.cwd}. The chat now talks to it.",
                          window=info.window_id)  # fmt: skip

    async def _send(self, channel: ChannelId, args: SendText, asked: str) -> ToolResult:
        info = self._session(channel, args.session)
        switched = self._bind(channel, info)
        await self._gateway.send_to_window(info.window_id, args.text)
        note = " (the chat now talks to it)" if switched else ""
        return ToolResult(line=f"🔧 send_text {shortened(args.text)!r} → window "
                               f"{info.window_id}{note}",
                          content=f"Typed into window {info.window_id}; its reply comes to the "
                                  "chat by itself (read_output shows its screen).",
                          window=info.window_id)  # fmt: skip

    async def _read(self, channel: ChannelId, args: ReadOutput, asked: str) -> ToolResult:
        info = self._session(channel, args.session, live=False)  # an exited one's last screen
        screen = await self._gateway.capture_pane(info.window_id)
        lines = [line.rstrip() for line in screen.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        shown = lines[-args.lines :]
        return ToolResult(line=f"🔧 read_output window {info.window_id} → {len(shown)} lines",
                          content="\n".join(shown) or "(the screen is empty)",
                          window=info.window_id)  # fmt: skip

    async def _switch(self, channel: ChannelId, args: SwitchSession, asked: str) -> ToolResult:
        info = self._session(channel, args.session)
        self._bind(channel, info)
        return ToolResult(line=f"🔧 switch_session → window {info.window_id}",
                          content=f"The chat now talks to window {info.window_id}.",
                          window=info.window_id)  # fmt: skip

    async def _close(self, channel: ChannelId, args: CloseSession, asked: str) -> ToolResult:
        info = self._session(channel, args.session, live=False)
        question = f"Close window {info.window_id} ({_what(info)} in {info.cwd})?"
        pending = PendingAction(kind="close", question=question, window=info.window_id)
        return ToolResult(line=f"🔧 close_session window {info.window_id} → asking you to "
                               "confirm",
                          content="The person was asked to confirm; the session is not "
                                  "closed yet.",
                          confirm=pending, window=info.window_id)  # fmt: skip

    # -- checks --------------------------------------------------------------------------------

    def _own(self, channel: ChannelId) -> tuple[WindowInfo, ...]:
        return tuple(w for w in self._gateway.windows() if w.channel_id == channel)

    def _own_window(self, channel: ChannelId, window: WindowId) -> WindowInfo:
        try:
            info = self._gateway.window_info(window)
        except WindowNotFoundError:
            info = None
        if info is None or info.channel_id != channel:
            # Whether it exists at all is not this chat's business.
            raise _Refused(f"window {shortened(window, limit=20)} is not one of this chat's "
                           "sessions")  # fmt: skip
        return info

    def _session(
        self, channel: ChannelId, session: str | None, *, live: bool = True
    ) -> WindowInfo:
        """The chat's session named by id (or its current one); refused when it is not the
        chat's, or (``live``) has exited."""
        if session is None or session.strip().lower() in ("", "current"):
            bound = self._gateway.channel_router.resolve_window(channel)
            if bound is None:
                raise _Refused("this chat talks to no session: name one, or start one")
            info = self._own_window(channel, bound)
        else:
            info = self._own_window(channel, WindowId(session.strip()))
        if live and info.dead and not info.asleep:
            raise _Refused(f"the agent in window {info.window_id} has exited (#resume "
                           "continues it)")  # fmt: skip
        return info

    def _bind(self, channel: ChannelId, info: WindowInfo) -> bool:
        """Make the chat talk to the window; whether that changed anything."""
        if self._gateway.channel_router.resolve_window(channel) == info.window_id:
            return False
        self._gateway.bind_channel(channel, info.window_id)
        return True

    def _check_provider(self, provider: str) -> None:
        installed = self.installed()
        if provider not in installed:
            raise _Refused(f"{shortened(provider, limit=30)!r} is not an installed agent "
                           f"(installed: {', '.join(installed) or 'none'})")  # fmt: skip

    def _folder(self, raw: str, *, create: bool) -> Path:
        """The folder, resolved and inside the workspace (created when asked and allowed)."""
        workspace = self.workspace()
        roots = workspace.roots
        if not roots:
            raise _Refused("no workspace folder is configured (gateway.workspace_roots)")
        problem = path_problem(raw)
        if problem or not raw.strip():
            raise _Refused(f"{shortened(raw, limit=40)!r} is not a path: {problem or 'empty'}")
        given = Path(os.path.expanduser(raw.strip()))
        candidates = [given] if given.is_absolute() else [root / given for root in roots]
        inside = [r for r in (Path(os.path.realpath(c)) for c in candidates)
                  if workspace.contains(r)]  # fmt: skip
        for resolved in inside:
            if resolved.is_dir():
                return resolved
            if create and not resolved.exists():
                return _make_folder(resolved, roots)
        if not inside:
            raise _Refused(f"{shortened(raw, limit=PATH_CHARS)} is outside the workspace folders "
                           f"({', '.join(map(str, roots))})")  # fmt: skip
        raise _Refused(f"{shortened(raw, limit=PATH_CHARS)} is not a folder in the workspace (set "
                       "create to make it)")  # fmt: skip

    async def _launch(self, channel: ChannelId, args: StartSession, folder: Path) -> WindowInfo:
        mode = "yolo" if args.mode == "yolo" else "normal"
        return await self._gateway.create_window(folder, args.provider, mode, channel_id=channel)

    def _describe(self, channel: ChannelId, info: WindowInfo) -> str:
        bound = self._gateway.channel_router.resolve_window(channel)
        current = " — the chat talks to this one" if info.window_id == bound else ""
        return f"{info.window_id}: {_what(info)} in {info.cwd}, {self._state(info)}{current}"

    def _state(self, info: WindowInfo) -> str:
        if info.asleep:
            return "asleep (a message wakes it)"
        if info.dead:
            return "exited"
        status, prompt = self._gateway.status_of(info.window_id)
        if status is AgentStatus.PROMPT and prompt is not None:
            return f"waiting for an answer: {prompt.title}"
        return status.value if status else "starting"


def tool_schemas(tools: Mapping[str, tuple[type[BaseModel], Any]]) -> list[dict[str, Any]]:
    """Each tool as an OpenAI function: its name, its docstring, its arguments' schema."""
    schemas = []
    for name, (model, _) in tools.items():
        parameters = model.model_json_schema()
        parameters.pop("title", None)
        parameters.pop("description", None)
        description = " ".join((model.__doc__ or "").split())
        schemas.append({"type": "function", "function": {
            "name": name, "description": description, "parameters": parameters}})  # fmt: skip
    return schemas


def _make_folder(folder: Path, roots: tuple[Path, ...]) -> Path:
    """Create folder and its missing parents; each new name must be a plain folder name."""
    root = next(r for r in roots if folder.is_relative_to(r))
    for name in folder.relative_to(root).parts:
        problem = folder_name_problem(name)
        if problem:
            raise _Refused(f"cannot create {name!r}: {problem}")
    try:
        folder.mkdir(mode=0o755, parents=True)
    except OSError as exc:
        raise _Refused(f"cannot create {folder}: {exc.strerror or exc}") from None
    return folder


def _what(info: WindowInfo) -> str:
    if info.provider == "shell":
        return "shell"
    return f"{info.provider} ({'standard' if info.mode == 'normal' else info.mode})"


def _malformed(name: str, problem: str) -> ToolResult:
    shown = shortened(name, limit=40)
    return ToolResult(line=f"⚠️ {shown}: malformed tool call ({problem})",
                      content=f"Malformed tool call: {problem}. Call it again, correctly.")


def _argument_problem(exc: ValueError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "arguments"
        return f"{where}: {first['msg']}"
    return "its arguments are not a JSON object"
