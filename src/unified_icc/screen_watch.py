"""ScreenWatch: what each agent's screen says (idle, working, a prompt), reported on change.

Owns which panes are worth capturing (changed since the last look, or flagged by a hook),
the last status per window, and StatusEvents for changes, including a prompt leaving the
screen. Parsing is terminal.status_parser's; tmux calls go through the backend.

Ordering promise: before a window's status is reported, ``settle`` (the transcript feed)
delivers what its transcript holds, so a StatusEvent follows every message written when its
screen changed (the tool call comes before its prompt, the person's words before WORKING).
A window flagged with ``turn_ended`` (its Stop hook fired; an agent without one wrote output)
is reported idle at its next idle look even when its status did not change: a quick turn may
never have been seen working; that IDLE carries turn_ended, once the transcript shows the
prompt the agent took (its UserPromptSubmit hook): a busy Claude can write the prompt and its
reply after its Stop hook, and a turn's end must follow its messages (waited for at most
_PROMPT_WAIT seconds). For providers without a Stop hook every change to IDLE carries it too,
unless their transcript (read just before) ends in a tool call or a tool result: the tool
runs, or the model answers it, next. Gemini's screen can look idle for a moment in between,
and its turn is not over (the reply, new output, flags the window again). A plain shell is
WORKING while a program other than the shell itself is in its foreground; the
shell itself in the foreground counts as IDLE once its prompt is on the last line (or its
pane has been quiet for a while), so a loop the shell runs is WORKING between its commands.
``look_now`` is a query for the keystroke code: it reports nothing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from unified_icc.channel_router import ChannelRouter
from unified_icc.errors import TmuxError
from unified_icc.event_bus import EventBus
from unified_icc.events import AgentStatus, PromptInfo, StatusEvent
from unified_icc.ids import RecordId
from unified_icc.terminal import ScreenStatus, parse_screen
from unified_icc.terminal.prompt_patterns import SHELL
from unified_icc.tmux import PaneInfo, TmuxBackend
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["ScreenWatch"]

logger = logging.getLogger(__name__)

# tmux reports activity in whole seconds: a pane active in the second of our last capture
# may have changed after it, so it is captured again on the next tick.
_ACTIVITY_SLACK = 1
# A shell's prompt ends its last line with one of these: bash $ and #, zsh %, fish >, and
# the heavy angle (U+276F) and guillemet (U+00BB) of prompt themes.
_PROMPT_END = re.compile("[$#%>\u276f\u00bb]\\s*$")
# Seconds a shell's pane must be quiet before a prompt not recognised still ends its turn.
_SHELL_QUIET = 2

# Seconds a turn's end announced by its Stop hook waits for the prompt the agent took to show
# in its transcript (then it ends anyway: a command of the CLI's own may never be written).
_PROMPT_WAIT = 5.0

Settle = Callable[[WindowRecord], Awaitable[object]]


async def _nothing_to_settle(_: WindowRecord) -> None:
    return None


class TranscriptState(Protocol):
    """What the transcripts say of a window's turn (TranscriptFeed)."""

    def owes_reply(self, record_id: RecordId) -> bool: ...

    def prompt_unread(self, record_id: RecordId) -> bool: ...

    def stop_waiting_for_prompts(self, record_id: RecordId) -> None: ...


class _NoTranscripts:
    def owes_reply(self, record_id: RecordId) -> bool:
        return False

    def prompt_unread(self, record_id: RecordId) -> bool:
        return False

    def stop_waiting_for_prompts(self, record_id: RecordId) -> None:
        return None


@dataclass(slots=True)
class _Seen:
    captured_at: int = 0
    status: AgentStatus | None = None
    prompt: PromptInfo | None = None


class ScreenWatch:
    def __init__(
        self,
        *,
        backend: TmuxBackend,
        store: WindowStore,
        router: ChannelRouter,
        bus: EventBus,
        settle: Settle = _nothing_to_settle,
        stop_hooked: frozenset[str] = frozenset(),
        transcripts: TranscriptState | None = None,
    ) -> None:
        self._backend = backend
        self._settle = settle
        self._transcripts = transcripts or _NoTranscripts()
        self._stop_hooked = stop_hooked  # providers whose Stop hook says when a turn ends
        self._store = store
        self._router = router
        self._bus = bus
        self._seen: dict[RecordId, _Seen] = {}
        self._due: set[RecordId] = set()
        self._turn_ended: set[RecordId] = set()
        self._awaiting_prompt: dict[RecordId, float] = {}  # since when (monotonic)

    def flag(self, record_id: RecordId, *, turn_ended: bool = False) -> None:
        """Capture this window on the next update (a hook says its screen is changing).

        turn_ended: the agent said its turn is over; report the next idle look even unchanged.
        """
        self._due.add(record_id)
        if turn_ended:
            self._turn_ended.add(record_id)

    def forget(self, record_id: RecordId) -> None:
        self._seen.pop(record_id, None)
        self._due.discard(record_id)
        self._turn_ended.discard(record_id)
        self._awaiting_prompt.pop(record_id, None)

    def last(self, record_id: RecordId) -> tuple[AgentStatus | None, PromptInfo | None]:
        seen = self._seen.get(record_id)
        return (seen.status, seen.prompt) if seen else (None, None)

    @property
    def busy(self) -> bool:
        """Whether some window is expected to change soon (worth a quicker next tick)."""
        return bool(self._due) or any(
            s.status in (AgentStatus.WORKING, None) for s in self._seen.values()
        )

    async def update(self, panes: tuple[PaneInfo, ...]) -> None:
        """Capture the panes worth a look and report each window whose status changed."""
        by_record = {pane.record_id: pane for pane in panes if pane.record_id}
        for record in self._store:
            pane = by_record.get(record.record_id)
            if pane is None or pane.dead or record.dead:
                continue
            seen = self._seen.setdefault(record.record_id, _Seen())
            if record.record_id in self._due or pane.activity >= seen.captured_at - _ACTIVITY_SLACK:
                self._due.discard(record.record_id)
                await self._look(record, seen, pane)

    async def close_announced_turn(self, record: WindowRecord) -> None:
        """New input is coming: a turn whose end the agent announced (its Stop hook) but that
        no idle look has reported yet is reported ended now, so that the flag is not taken
        for the end of the next turn."""
        if record.provider not in self._stop_hooked or record.record_id not in self._turn_ended:
            return
        self._turn_ended.discard(record.record_id)
        self._awaiting_prompt.pop(record.record_id, None)
        seen = self._seen.setdefault(record.record_id, _Seen())
        seen.status, seen.prompt = AgentStatus.IDLE, None
        idle = ScreenStatus(status=AgentStatus.IDLE, prompt=None)
        await self._report(record, idle, turn_ended=True)

    async def look_now(self, record: WindowRecord) -> ScreenStatus:
        """Capture and parse the window at once. A query: it reports nothing and delivers
        nothing (it runs under the keystroke lock); it flags the window, so the monitor's next
        look reports what changed."""
        seen = self._seen.get(record.record_id) or _Seen()
        try:
            screen = await self._backend.capture(record.window_id)
        except TmuxError as exc:
            logger.debug("capture of %s failed: %s", record.window_id, exc)
            return ScreenStatus(status=seen.status or AgentStatus.IDLE, prompt=seen.prompt)
        self._due.add(record.record_id)
        if record.provider == SHELL:
            return _shell_status(None, seen.status, screen)[0]
        return parse_screen(record.provider, screen)

    async def idle_now(
        self,
        record: WindowRecord,
        pane: PaneInfo,
        *,
        box_is_typed: bool,
        unsent: Callable[[str], bool],
    ) -> bool:
        """Whether the window is idle right now, by a fresh look: its input box shown and
        empty (when ``box_is_typed``: the CLI shows no suggestions there) or at least not
        holding text we typed (``unsent``); a shell with itself in the foreground. A query:
        it reports nothing."""
        try:
            screen = await self._backend.capture(record.window_id)
        except TmuxError:
            return False
        if record.provider == SHELL:
            seen = self._seen.get(record.record_id) or _Seen()
            return _shell_status(pane, seen.status, screen)[0].status is AgentStatus.IDLE
        shown = parse_screen(record.provider, screen)
        if (box_is_typed and shown.input_text) or unsent(shown.input_text):
            return False
        return shown.status is AgentStatus.IDLE

    async def _look(self, record: WindowRecord, seen: _Seen, pane: PaneInfo) -> ScreenStatus:
        seen.captured_at = int(time.time())
        try:
            screen = await self._backend.capture(record.window_id)
        except TmuxError as exc:
            logger.debug("capture of %s failed: %s", record.window_id, exc)
            return ScreenStatus(status=seen.status or AgentStatus.IDLE, prompt=seen.prompt)
        if record.provider == SHELL:
            parsed, waiting = _shell_status(pane, seen.status, screen)
            if waiting:  # no output to make it look again: look on the next tick
                self._due.add(record.record_id)
        else:
            parsed = parse_screen(record.provider, screen)
        idle = parsed.status is AgentStatus.IDLE
        hooked = record.provider in self._stop_hooked
        flagged = idle and record.record_id in self._turn_ended
        changed = (parsed.status, parsed.prompt) != (seen.status, seen.prompt)
        if flagged and await self._prompt_still_unread(record):
            self._due.add(record.record_id)  # look again on the next tick
            if changed:
                seen.status, seen.prompt = parsed.status, parsed.prompt
                await self._report(record, parsed, turn_ended=False)
            return parsed
        if flagged or changed:
            seen.status, seen.prompt = parsed.status, parsed.prompt
            if idle:
                self._turn_ended.discard(record.record_id)
            await self._report(record, parsed, turn_ended=flagged or (idle and not hooked))
        return parsed

    async def _prompt_still_unread(self, record: WindowRecord) -> bool:
        """The Stop hook said the turn is over, but the prompt the agent took is not in its
        transcript yet (Claude, busy, can write the prompt and its reply after the hook):
        the turn's end waits for them, so that it follows its own messages, up to
        _PROMPT_WAIT seconds."""
        record_id = record.record_id
        if record.provider not in self._stop_hooked:
            return False
        if self._transcripts.prompt_unread(record_id):
            await self._settle(record)  # what it wrote since the hook
        if not self._transcripts.prompt_unread(record_id):
            self._awaiting_prompt.pop(record_id, None)
            return False
        since = self._awaiting_prompt.setdefault(record_id, time.monotonic())
        if time.monotonic() - since < _PROMPT_WAIT:
            return True
        logger.info("window %s: its prompt is not in its transcript %gs after its turn ended; "
                    "ending the turn", record.window_id, _PROMPT_WAIT)  # fmt: skip
        self._transcripts.stop_waiting_for_prompts(record_id)
        self._awaiting_prompt.pop(record_id, None)
        return False

    async def _report(self, record: WindowRecord, shown: ScreenStatus, *, turn_ended: bool) -> None:
        """Deliver what the transcript holds, then the status (the ordering promise)."""
        await self._settle(record)
        hooked = record.provider in self._stop_hooked
        if not hooked and self._transcripts.owes_reply(record.record_id):
            turn_ended = False
        await self._bus.emit(
            StatusEvent(
                window_id=record.window_id,
                channel_ids=self._router.channels_for(record.window_id),
                status=shown.status,
                prompt=shown.prompt,
                turn_ended=turn_ended,
            )
        )


def _shell_status(
    pane: PaneInfo | None, last: AgentStatus | None, screen: str
) -> tuple[ScreenStatus, bool]:
    """A shell is WORKING while a program other than the shell itself is in the foreground,
    or while it runs a loop of its own: the shell in the foreground but its prompt not on the
    last line, until the pane has been quiet for _SHELL_QUIET seconds (a prompt this does not
    recognise then still ends the turn). Also says whether only that wait keeps it WORKING.

    Without a pane listing (a look on demand) the last known status stands.
    """
    if pane is None:
        return ScreenStatus(status=last or AgentStatus.IDLE, prompt=None), False
    foreign = pane.pid is not None and pane.current_command != _program_name(pane.pid)
    if foreign:
        return ScreenStatus(status=AgentStatus.WORKING, prompt=None), False
    waiting = not _prompt_shown(screen) and time.time() - pane.activity < _SHELL_QUIET
    status = AgentStatus.WORKING if waiting else AgentStatus.IDLE
    return ScreenStatus(status=status, prompt=None), waiting


def _prompt_shown(screen: str) -> bool:
    lines = [line for line in screen.splitlines() if line.strip()]
    return bool(lines) and _PROMPT_END.search(lines[-1]) is not None


def _program_name(pid: int) -> str | None:
    """The name tmux would report for process pid (Linux /proc); None when unknown."""
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return None
