"""The chat's ``#`` commands other than the wizard: status, verbose, sessions, escape, resume,
mode.

Owns what each command does and answers, through the gateway's public API only; a chat only
ever sees, switches to or closes its own windows (and orphans, which it may adopt).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cclark.handlers.new_options import limits_line
from cclark.handlers.user_input import parse_choice, shortened
from unified_icc import (
    ChannelId,
    OrphanWindow,
    UnifiedICC,
    UnifiedICCError,
    WindowBusyError,
    WindowId,
    WindowInfo,
    WindowRunningError,
)

__all__ = ["SessionCommands", "SessionEntry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEntry:
    """One numbered line of ``#session list``."""

    window_id: WindowId
    label: str
    orphan: bool
    current: bool = False  # the window this chat talks to


class SessionCommands:
    def __init__(self, *, gateway: UnifiedICC) -> None:
        self._gateway = gateway
        # What each chat was last shown by #session list, so numbers mean what they showed.
        self._listed: dict[ChannelId, tuple[SessionEntry, ...]] = {}

    async def status(self, channel: ChannelId) -> str:
        window = self._gateway.channel_router.resolve_window(channel)
        verbose = "on" if self._gateway.channel_setting(channel, "verbose", False) else "off"
        if window is None:
            return f"No agent session in this chat. Send #new to start one. (verbose: {verbose})"
        info = self._gateway.window_info(window)
        status, prompt = self._gateway.status_of(window)
        if info.asleep:
            state = "asleep (your next message wakes it)"
        elif info.dead:
            state = "exited (#resume continues it; #new starts anew)"
        else:
            state = status.value if status else "unknown"
        if prompt is not None and not info.dead:
            state += f" — waiting for an answer: {prompt.title}"
        limits = limits_line(self._gateway.window_limits(window))
        cli = await self._gateway.provider_health(info.provider)
        warning = f"\n⚠️ {cli.warning}." if cli.warning else ""
        mode = await self._mode_line(info)
        return (f"Window {info.window_id}: {info.provider} in {info.cwd}\n"
                f"Session: {info.session_id or 'not known yet'}\nStatus: {state}\n"
                f"Mode: {mode}\nLimits: {limits}\nVerbose: {verbose}{warning}")  # fmt: skip

    async def mode(self, channel: ChannelId, argument: str) -> str:
        """#mode shows the session's mode; #mode <name> switches it."""
        window = self._gateway.channel_router.resolve_window(channel)
        if window is None:
            return "No agent session in this chat. Send #new to start one."
        info = self._gateway.window_info(window)
        provider_modes = self._gateway.providers.get(info.provider).modes
        modes = _mode_names(provider_modes)
        if not argument.strip():
            return (f"Mode: {await self._mode_line(info)}. Switch with #mode <name>; "
                    f"{info.provider} has {modes}.")  # fmt: skip
        wanted = _MODE_WORDS.get(argument.strip().lower())
        if wanted is None or wanted not in {str(m) for m in provider_modes}:
            return f"{shortened(argument.strip())!r} is not a mode of {info.provider}: use {modes}."
        try:
            shown = await self._gateway.set_mode(window, wanted)
        except WindowBusyError:
            return (f"{info.provider} is busy (a turn, a question, or text in its input box), "
                    f"and switching to {_mode(wanted)} restarts it: wait for it to finish or "
                    "#esc it, then send #mode again.")  # fmt: skip
        if shown is None:
            return (f"{info.provider} was switched to {_mode(wanted)} mode, but its screen "
                    "does not show it: look at #screenshot.")  # fmt: skip
        if shown != wanted:
            return (f"Asked for {_mode(wanted)} mode, but the screen shows {_mode(shown)}: "
                    "look at #screenshot.")  # fmt: skip
        return f"Mode: {_mode(wanted)} (the screen shows it)."

    async def _mode_line(self, info: WindowInfo) -> str:
        """The mode the session runs in, as its screen shows it when it shows one."""
        if info.dead or info.asleep:
            return _mode(info.mode)
        try:
            shown = await self._gateway.shown_mode(info.window_id)
        except UnifiedICCError:
            shown = None
        if shown is None:
            return _mode(info.mode)
        if shown != info.mode:
            return f"{_mode(shown)} on screen (started as {_mode(info.mode)})"
        return f"{_mode(shown)} (on screen)"

    async def resume(self, channel: ChannelId) -> str:
        """#resume: start the chat's ended agent again with its conversation; the gateway's
        resumed event tells the chat, so the answer is empty unless it could not."""
        window = self._gateway.channel_router.resolve_window(channel)
        if window is None:
            return "No agent session in this chat. Send #new to start one."
        return await self.resume_window(window)

    async def resume_window(self, window: WindowId) -> str:
        try:
            await self._gateway.resume_window(window)
        except WindowRunningError:
            return f"The agent in window {window} is running: there is nothing to resume."
        except UnifiedICCError as exc:
            return f"Could not resume: {exc}"
        return ""

    def verbose(self, channel: ChannelId, argument: str) -> str:
        choice = argument.strip().lower()
        if choice not in ("on", "off"):
            return "Send #verbose on (show thinking and full tool output) or #verbose off."
        self._gateway.set_channel_setting(channel, "verbose", choice == "on")
        return f"Verbose is {choice}."

    async def escape(self, channel: ChannelId) -> str:
        window = self._gateway.channel_router.resolve_window(channel)
        if window is None:
            return "No agent session in this chat. Send #new to start one."
        return await self.escape_window(window)

    async def escape_window(self, window: WindowId) -> str:
        """Stop the window's agent (Escape; Ctrl-C in a shell); the answer says which key and
        whether the agent's input was taken back."""
        shell = self._gateway.window_info(window).provider == "shell"
        if await self._gateway.interrupt(window):
            return ("Sent Escape: the agent stopped before replying, and the message it was "
                    "working on was taken back. Send it again, changed or not.")  # fmt: skip
        if shell:
            return "Sent Ctrl-C to the shell: its running program was stopped."
        return "Sent Escape to the agent."

    async def session(self, channel: ChannelId, argument: str) -> str:
        words = argument.split()
        if not words or words[0].lower() == "list":
            return await self._list(channel)
        action = words[0].lower()
        number = parse_choice(words[1]) if len(words) == 2 else None
        if action not in ("switch", "close") or number is None:
            return "Send #session list, #session switch <n> or #session close <n>."
        entries = self._listed.get(channel, ())
        if not 1 <= number <= len(entries):
            return f"There is no session {number} in the last list: send #session list first."
        entry = entries[number - 1]
        if action == "switch":
            return await self._switch(channel, entry)
        return await self._close(channel, entry)

    async def listing(self, channel: ChannelId) -> tuple[tuple[SessionEntry, ...], str]:
        """The chat's sessions and orphans, numbered as #session switch/close take them."""
        own = [w for w in self._gateway.windows() if w.channel_id == channel]
        orphans = await self._gateway.list_orphaned_agent_windows()
        bound = self._gateway.channel_router.resolve_window(channel)
        entries = (*(_own_entry(w, bound) for w in own), *(_orphan_entry(o) for o in orphans))
        self._listed[channel] = entries
        if not entries:
            return entries, "This chat has no sessions. Send #new to start one."
        lines = "\n".join(f"{i}. {e.label}" for i, e in enumerate(entries, 1))
        return entries, f"Sessions:\n{lines}\nSend #session switch <n> or #session close <n>."

    async def _list(self, channel: ChannelId) -> str:
        return (await self.listing(channel))[1]

    async def act_on(self, channel: ChannelId, action: str, window_id: WindowId) -> str:
        """Switch to or close one window by id (a tap on the list): the chat's own, or an
        orphan to switch to, as found now."""
        entries, _ = await self.listing(channel)
        entry = next((e for e in entries if e.window_id == window_id), None)
        if entry is None:
            return f"Window {window_id} is no longer one of this chat's sessions."
        if action == "resume" and not entry.orphan:
            return await self.resume_window(window_id)
        if action == "switch":
            return await self._switch(channel, entry)
        return await self._close(channel, entry)

    async def _switch(self, channel: ChannelId, entry: SessionEntry) -> str:
        try:
            if entry.orphan:
                await self._gateway.adopt_window(entry.window_id, channel)
            else:
                self._gateway.bind_channel(channel, entry.window_id)
        except UnifiedICCError as exc:
            return f"Could not switch: {exc}"
        return f"This chat now talks to window {entry.window_id}."

    async def _close(self, channel: ChannelId, entry: SessionEntry) -> str:
        if entry.orphan:
            return (f"Window {entry.window_id} does not belong to this chat, so it was left "
                    "alone. Switch to it first to adopt it.")  # fmt: skip
        try:
            await self._gateway.kill_window(entry.window_id)
        except UnifiedICCError as exc:
            return f"Could not close: {exc}"
        return f"Closed window {entry.window_id}."


def _mode(mode: str) -> str:
    return "standard" if mode == "normal" else mode


# What a person may call each mode.
_MODE_WORDS = {
    "standard": "normal", "normal": "normal", "default": "normal", "manual": "normal",
    "accept-edits": "accept-edits", "edits": "accept-edits", "acceptedits": "accept-edits",
    "auto-edit": "accept-edits", "auto_edit": "accept-edits",
    "plan": "plan",
    "yolo": "yolo", "bypass": "yolo",
}  # fmt: skip
_MODE_ORDER = ("normal", "accept-edits", "plan", "yolo")


def _mode_names(modes: Iterable[str]) -> str:
    values = {str(m) for m in modes}
    return ", ".join(_mode(name) for name in _MODE_ORDER if name in values)


def _own_entry(window: WindowInfo, bound: WindowId | None) -> SessionEntry:
    marks = [" (this chat)"] if window.window_id == bound else []
    if window.asleep:
        marks.append(" (asleep)")
    elif window.dead:
        marks.append(" (exited)")
    label = f"{window.provider} ({_mode(window.mode)}) in {window.cwd}{''.join(marks)}"
    return SessionEntry(window_id=window.window_id, label=label, orphan=False,
                        current=window.window_id == bound)  # fmt: skip


def _orphan_entry(orphan: OrphanWindow) -> SessionEntry:
    label = f"{orphan.provider} in {orphan.cwd} — not started by cclark (switch to adopt it)"
    return SessionEntry(window_id=orphan.window_id, label=label, orphan=True)

