"""SmokeTests: does a provider's CLI start here? Tried in a scratch window, never typed into.

Owns one check per provider at a time: start the CLI (its configured command, standard mode,
no hooks) in a window of our tmux session, wait for its input box (or a first question, such
as Claude's "trust this folder?", which also shows it runs), close the window, and say how
long that took, or why not with the screen that shows it. Nothing is ever typed, so nothing is
sent to a model and nothing costs. The scratch window carries a record id no record has, so
the monitor and the orphan list pass it by. Knows nothing of chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from unified_icc.config import GatewaySettings
from unified_icc.errors import TmuxError, WindowNotFoundError
from unified_icc.events import AgentStatus
from unified_icc.ids import SCRATCH_PREFIX, WindowId, new_session_id
from unified_icc.providers import Mode, Provider
from unified_icc.terminal import parse_screen
from unified_icc.tmux import TmuxBackend, WindowSpec

__all__ = ["SmokeResult", "SmokeTests"]

logger = logging.getLogger(__name__)

_LOOK_EVERY = 0.2
_DEAD_NOTE = "Pane is dead"  # what tmux writes under a dead pane's last output
_DRAIN_WAIT = 3.0
_DRAIN_LOOK_EVERY = 0.05
# tmux closes a pane's terminal as soon as its process exits, dropping what it has not read
# yet: a CLI that fails at once can lose its last words. The check's window runs the CLI
# under a shell that outlives it briefly and exits with its status.
_OUTLIVE = '"$@"; status=$?; sleep 0.3; exit $status'


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeResult:
    """How one start of a provider's CLI went.

    ok: it showed its input box (``shows="input box"``) or a first question (``shows`` names
    it) within the time allowed. ``reason`` says why not; ``screen`` is the last screen seen
    (the CLI's own words on what went wrong).
    """

    provider: str
    ok: bool
    seconds: float
    version: str | None = None
    shows: str = ""
    reason: str = ""
    screen: str = ""


class SmokeTests:
    def __init__(self, *, backend: TmuxBackend, settings: GatewaySettings, scratch: Path) -> None:
        self._backend = backend
        self._settings = settings
        self._scratch = scratch
        self._locks: dict[str, asyncio.Lock] = {}

    async def run(self, provider: Provider, *, within: float) -> SmokeResult:
        """Start provider's CLI in a scratch window and wait up to ``within`` seconds for it to
        be ready; one check per provider at a time. Raises: nothing for a CLI that fails."""
        async with self._locks.setdefault(provider.name, asyncio.Lock()):
            started = time.monotonic()
            if not provider.is_installed():
                return SmokeResult(provider=provider.name, ok=False, seconds=0.0,
                                   reason=f"{provider.command[0]!r} is not on PATH")  # fmt: skip
            asked = asyncio.ensure_future(asyncio.to_thread(provider.version, timeout=within))
            try:
                window = await self._open(provider)
            except TmuxError as exc:
                return SmokeResult(provider=provider.name, ok=False, version=await asked,
                                   seconds=time.monotonic() - started,
                                   reason=f"tmux could not open a window: {exc}")  # fmt: skip
            try:
                shows, reason, screen = await self._watch(provider, window, within)
            finally:
                with contextlib.suppress(TmuxError, WindowNotFoundError):
                    await self._backend.kill_window(window)
            version = await asked
        return SmokeResult(provider=provider.name, ok=not reason, version=version, shows=shows,
                           seconds=round(time.monotonic() - started, 2), reason=reason,
                           screen=screen)  # fmt: skip

    async def _open(self, provider: Provider) -> WindowId:
        session = new_session_id() if provider.assigns_session_id else None
        plan = provider.launch(Mode.NORMAL, session_id=session)
        cwd = self._settings.workspace_roots[0] if self._settings.workspace_roots else None
        if cwd is None or not cwd.is_dir():
            cwd = self._scratch
            await asyncio.to_thread(cwd.mkdir, mode=0o700, parents=True, exist_ok=True)
        spec = WindowSpec(session=self._settings.tmux_session,
                          record_id=SCRATCH_PREFIX + secrets.token_hex(4),
                          name=f"check:{provider.name}", cwd=cwd,
                          argv=("sh", "-c", _OUTLIVE, "sh", *plan.argv), env=plan.env,
                          width=self._settings.window_width,
                          height=self._settings.window_height)  # fmt: skip
        return (await self._backend.create_window(spec)).window_id

    async def _last_words(self, window: WindowId) -> str:
        """What a CLI that died printed: tmux scrolls it up to write "Pane is dead" at the
        bottom, so the screen is read with its scrollback, without blank lines and that note.

        tmux may see the process exit before it has read all it wrote (a busy machine): the
        note comes once the output is drained, so the screen is read until it shows (or
        _DRAIN_WAIT passes)."""
        deadline = time.monotonic() + _DRAIN_WAIT
        while True:
            screen = await self._backend.capture(window, history=self._settings.window_height)
            if _DEAD_NOTE in screen or time.monotonic() > deadline:
                break
            await asyncio.sleep(_DRAIN_LOOK_EVERY)
        lines = [line for line in screen.splitlines()
                 if line.strip() and not line.startswith(_DEAD_NOTE)]  # fmt: skip
        return "\n".join(lines)

    async def _watch(
        self, provider: Provider, window: WindowId, within: float
    ) -> tuple[str, str, str]:
        """(what it shows when ready, why not, the last screen)."""
        screen = ""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            probe = await self._backend.probe(window)
            screen = (await self._backend.capture(window)).rstrip()
            if probe.dead:
                words = await self._last_words(window)
                # Read again once tmux is done with the pane: it may know the status only now.
                status = (await self._backend.probe(window)).dead_status
                how = f"with status {status}" if status is not None else "at once"
                return "", f"the CLI exited {how} instead of showing its input box", words
            shown = parse_screen(provider.name, screen) if screen.strip() else None
            if shown is not None and shown.status is AgentStatus.IDLE:
                return "input box", "", screen
            if shown is not None and shown.prompt is not None:
                return f"a question first: {shown.prompt.title}", "", screen
            await asyncio.sleep(_LOOK_EVERY)
        return "", f"no input box after {within:g} s", screen
