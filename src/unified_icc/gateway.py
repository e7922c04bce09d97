"""UnifiedICC: the gateway facade a frontend drives (names fixed by the design, §3).

Composes config, tmux backend, providers, window store, channel router, state file and
session monitor; owns the lifecycle and the per-window keystroke locks. Holds no parsing
logic and knows nothing of any chat platform.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Self

from unified_icc.channel_router import ChannelRouter, SettingValue
from unified_icc.config import Config, load_config
from unified_icc.errors import (
    GatewayStateError,
    InputRejectedError,
    ProviderNotInstalledError,
    WindowNotFoundError,
)
from unified_icc.event_bus import EventBus
from unified_icc.events import (
    AgentMessageEvent,
    AgentStatus,
    MessageKind,
    MessageRole,
    PromptInfo,
    StatusEvent,
    WindowChange,
    WindowEvent,
)
from unified_icc.health_report import HealthReporter
from unified_icc.hook import EVENTS_FILE_NAME, HookEventsFile
from unified_icc.ids import ChannelId, WindowId
from unified_icc.inbox import save_to_inbox
from unified_icc.journal import Journal
from unified_icc.persistence import StateFile, StateLock, StateSnapshot
from unified_icc.providers import ProviderRegistry, parse_mode
from unified_icc.session_monitor import SessionMonitor
from unified_icc.session_timers import SessionTimers, describe_seconds
from unified_icc.smoke_tests import SmokeResult, SmokeTests
from unified_icc.tmux import LibtmuxBackend, TmuxBackend
from unified_icc.transcript_feed import TranscriptFeed
from unified_icc.watermarks import Watermarks
from unified_icc.window_input import WindowInput
from unified_icc.window_launch import WindowLauncher
from unified_icc.window_modes import WindowModes
from unified_icc.window_ownership import WindowOwnership
from unified_icc.window_sleep import WindowSleep
from unified_icc.window_store import WindowRecord, WindowStore
from unified_icc.window_views import (
    GatewayHealth,
    OrphanWindow,
    ProviderHealth,
    Survey,
    WindowInfo,
    find_orphans,
)
from unified_icc.workspace import Workspace

__all__ = ["UnifiedICC"]

logger = logging.getLogger(__name__)

# What a message that only carries files says after naming them.
SENT_FILES = "(sent to you from the chat)"


class _Lifecycle(StrEnum):
    NEW = "new"
    STARTED = "started"
    STOPPED = "stopped"


class UnifiedICC:
    """The gateway. Use ``async with UnifiedICC(config) as gateway:`` or start()/stop()."""

    def __init__(
        self,
        config: Config | None = None,
        state_dir: Path | str | None = None,
        *,
        backend: TmuxBackend | None = None,
    ) -> None:
        if config is None:
            config = load_config(state_dir)
        elif state_dir is not None:
            config = dataclasses.replace(config, config_dir=Path(state_dir))
        self.config = config
        gateway = config.gateway
        self.providers = ProviderRegistry(config.providers)
        self.workspace = Workspace(gateway.workspace_roots)
        self.window_store = WindowStore()
        self.channel_router = ChannelRouter()
        self._backend = backend or LibtmuxBackend(
            socket_name=gateway.tmux_socket,
            timeout=gateway.tmux_timeout,
            scratch_dir=config.config_dir / "tmp",
        )
        self._state_file = StateFile(config.state_path)
        self._state_lock = StateLock(config.config_dir / "gateway.lock")
        self.journal = Journal(config.config_dir / "state.db")
        self._watermarks = Watermarks(self.journal)
        self._on_open: list[Callable[[Journal], None]] = []
        self._bus = EventBus(self.journal)
        self._hooks_dir = config.config_dir / "hooks"
        self._feed = TranscriptFeed(
            store=self.window_store,
            router=self.channel_router,
            bus=self._bus,
            cursors={},
            journal=self.journal,
        )
        self.monitor = SessionMonitor(
            backend=self._backend,
            session=gateway.tmux_session,
            store=self.window_store,
            router=self.channel_router,
            bus=self._bus,
            feed=self._feed,
            hooks=HookEventsFile(self._hooks_dir / EVENTS_FILE_NAME),
            hook_offset=0,
            persist=self._save,
            interval=gateway.poll_interval,
            journal=self.journal,
            home=config.home,
            locate=self._locate_transcript,
            stop_hooked=frozenset(p.name for p in self.providers.all() if "Stop" in p.hook_events),
        )
        self._launcher = WindowLauncher(
            backend=self._backend,
            settings=gateway,
            hooks_dir=self._hooks_dir,
            events_file=self.monitor.hooks_path,
            outputs_dir=config.config_dir / "outputs",
        )
        self._input = WindowInput(
            backend=self._backend, monitor=self.monitor, settings=config.gateway
        )
        self._ownership = WindowOwnership(
            backend=self._backend,
            store=self.window_store,
            router=self.channel_router,
            bus=self._bus,
            monitor=self.monitor,
            window_input=self._input,
            launcher=self._launcher,
            save=self._save,
        )
        self._sleep = WindowSleep(
            backend=self._backend,
            session=gateway.tmux_session,
            store=self.window_store,
            router=self.channel_router,
            bus=self._bus,
            monitor=self.monitor,
            window_input=self._input,
            launcher=self._launcher,
            providers=self.providers,
            save=self._save,
        )
        self._modes = WindowModes(
            store=self.window_store, monitor=self.monitor, window_input=self._input,
            sleep=self._sleep, providers=self.providers, save=self._save,
        )  # fmt: skip
        self._timers = SessionTimers(
            store=self.window_store, settings=gateway, sleep=self._sleep_idle,
            stop_turn=self._stop_turn, stalled=self._stalled,
        )  # fmt: skip
        self._bus.on_status(self._timers.on_status)
        self._bus.on_message(self._timers.on_message)
        self._bus.on_message(self._note_submission)
        scratch = config.config_dir / "tmp" / "smoke-test"
        self._smoke_tests = SmokeTests(backend=self._backend, settings=gateway, scratch=scratch)
        self._lifecycle = _Lifecycle.NEW
        self._reporter = HealthReporter(
            backend=self._backend,
            session=gateway.tmux_session,
            store=self.window_store,
            screens=self.monitor.screens,
            providers=self.providers,
            state_file=self._state_file,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Lock the state folder, load state.json, reconcile with live tmux, start watching.

        Idempotent. Recorded windows still alive are re-adopted with their bindings; dead or
        vanished ones are unbound and reported as WindowEvent(died).
        Raises: GatewayBusyError (another gateway uses the folder), GatewayStateError (after
        stop), TmuxError (tmux answers with an error other than "no server").
        """
        if self._lifecycle is _Lifecycle.STARTED:
            return
        if self._lifecycle is _Lifecycle.STOPPED:
            raise GatewayStateError("this gateway was stopped; create a new UnifiedICC")
        self._state_lock.acquire()
        try:
            self.journal.open()
            await self._load(self._state_file.load())
            for callback in self._on_open:
                callback(self.journal)
            await self.monitor.catch_up()
            await self.monitor.reconcile(startup=True)
            await self._ensure_session()
            self._save()
            await self.monitor.start()
            await self._timers.start()
        except BaseException:
            await self.monitor.stop()
            await self.journal.close()
            self._state_lock.release()
            raise
        self._lifecycle = _Lifecycle.STARTED
        logger.info(
            "gateway started: session %s, %d windows, %d bindings",
            self.config.gateway.tmux_session,
            len(self.window_store),
            len(self.channel_router.bindings),
        )

    async def stop(self) -> None:
        """Stop watching, save state and release the folder. Idempotent; windows keep running."""
        if self._lifecycle is not _Lifecycle.STARTED:
            self._lifecycle = _Lifecycle.STOPPED
            return
        self._lifecycle = _Lifecycle.STOPPED
        try:
            await self._timers.stop()
            await self.monitor.stop()
            self._save()
            await self.journal.close()
        finally:
            self._state_lock.release()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- events ------------------------------------------------------------------------------

    def on_message(self, callback: Callable[[AgentMessageEvent], Awaitable[None]]) -> None:
        self._bus.on_message(callback)

    def on_status(self, callback: Callable[[StatusEvent], Awaitable[None]]) -> None:
        self._bus.on_status(callback)

    def on_window_change(self, callback: Callable[[WindowEvent], Awaitable[None]]) -> None:
        self._bus.on_window_change(callback)

    def on_open(self, callback: Callable[[Journal], None]) -> None:
        """Call ``callback(journal)`` at start(), once state.db is open and before any event.

        A frontend keeps its own tables in the journal (defined and read there) and stages
        its writes in the event callbacks: they commit with the gateway's watermark.
        """
        self._on_open.append(callback)

    # -- windows -----------------------------------------------------------------------------

    async def create_window(
        self,
        path: Path | str,
        provider: str = "claude",
        mode: str = "normal",
        *,
        channel_id: ChannelId | None = None,
        idle_timeout: float | None = None,
        turn_timeout: float | None = None,
    ) -> WindowInfo:
        """Open a tmux window in ``path`` whose own command is the provider's CLI.

        The window keeps its pane when the agent exits (remain-on-exit) and carries our
        record id as a tmux user option. When ``channel_id`` is given the window belongs to
        that channel and the channel is bound to it. ``idle_timeout``: seconds without
        activity after which the agent is put to sleep (resumed by the next message);
        ``turn_timeout``: seconds a turn may run before it is interrupted. None takes
        gateway.idle_timeout / turn_timeout, 0 turns it off. Not cancel-safe once tmux was
        called.
        Raises: UnknownProviderError, UnsupportedModeError, ProviderNotInstalledError,
        PathRejectedError (missing, not a directory, outside the workspace roots),
        InputRejectedError (a negative timeout), TmuxError.
        """
        self._require_started()
        for name, limit in (("idle_timeout", idle_timeout), ("turn_timeout", turn_timeout)):
            if limit is not None and not 0 <= limit <= 30 * 86400:
                raise InputRejectedError(f"{name} must be 0 (off) to 30 days in seconds, "
                                         f"not {limit!r}")  # fmt: skip
        chosen = self.providers.get(provider)
        chosen_mode = parse_mode(mode)
        chosen.check_mode(chosen_mode)
        cwd = self.workspace.check_directory(path)
        if not chosen.is_installed():
            raise ProviderNotInstalledError(
                f"{chosen.name} is not installed: {chosen.command[0]!r} is not on PATH "
                f"(set providers.{chosen.name}.command in config.yaml)",
                provider=chosen.name,
            )
        record = await self._launcher.launch(chosen, chosen_mode, cwd, channel_id)
        record = dataclasses.replace(record, idle_timeout=idle_timeout, turn_timeout=turn_timeout)
        self.window_store.add(record)
        self.monitor.rewatch()
        if channel_id is not None:
            self.channel_router.bind(channel_id, record.window_id)
        self._save()
        logger.info("created window %s: %s in %s", record.window_id, chosen.name, cwd)
        await self._bus.emit(
            WindowEvent(
                window_id=record.window_id,
                kind=WindowChange.CREATED,
                channel_ids=self.channel_router.channels_for(record.window_id),
                provider=chosen.name,
            )
        )
        return WindowInfo.from_record(record)

    async def send_to_window(self, window_id: WindowId, text: str) -> None:
        """Type ``text`` literally into the agent and submit it with Enter.

        Short single-line text is typed; longer or multi-line text is pasted (bracketed).
        Enter follows as a separate key after the provider's pause. An agent asleep is
        resumed first (WindowEvent resumed) and typed into once it shows its input box.
        Serialised with every other keystroke operation on the window; each tmux call is
        bounded by gateway.tmux_timeout. Not cancel-safe once typing started.
        Raises: InputRejectedError (empty, too long, control characters),
        WindowNotFoundError, WindowDeadError, TmuxError.
        """
        self._require_started()
        record = self._touch(self._record(window_id))
        if record.asleep:
            record = self._touch(await self._sleep.wake(record))
        await self._input.type_text(record, self.providers.get(record.provider), text)
        self._touch(record)

    async def send_files(
        self, window_id: WindowId, files: Sequence[tuple[str | None, bytes]], text: str = ""
    ) -> tuple[Path, ...]:
        """Save files (name as given, bytes) in the window's folder, under .unified-icc/inbox/
        (git-ignored, safe unique names), then send the agent one message naming them in its
        provider's form (Claude: ``@path``, which attaches them) followed by ``text``. A
        shell is not typed into (words would run as a command): the files are only saved.
        Returns the saved paths. An agent asleep is resumed first.
        Raises: WindowNotFoundError, WindowDeadError (nothing is saved), OSError (the folder
        refused the files), InputRejectedError, TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        if not record.asleep:
            await self._input.verify_alive(record)
        saved = await asyncio.to_thread(save_to_inbox, Path(record.cwd), files)
        pattern = self.providers.get(record.provider).file_mention
        if pattern is not None and saved:
            names = " ".join(pattern.format(path=p.relative_to(record.cwd)) for p in saved)
            await self.send_to_window(window_id, f"{names} {text.strip() or SENT_FILES}")
        return saved

    async def resume_window(self, window_id: WindowId) -> WindowInfo:
        """Start again the agent of a window whose agent ended (exited, or asleep), in the
        same window, reopening its session with the CLI's own resume arguments; the window
        keeps its id, bindings and transcript, so nothing already delivered comes again.
        A session that cannot be reopened (never written to; a shell) starts afresh.
        Reports WindowEvent(resumed). Serialised with the window's keystrokes.
        Raises: WindowRunningError (the agent runs), WindowNotFoundError, TmuxError.
        """
        self._require_started()
        resumed = await self._sleep.resume(self._record(window_id))
        return WindowInfo.from_record(self._touch(resumed))

    async def sleep_window(self, window_id: WindowId, *, reason: str = "asked to") -> bool:
        """Stop the window's agent now if it is idle (no turn, no prompt, nothing typed in
        its box), keeping its record, bindings and session: the next message resumes it.
        Returns whether it was put to sleep; reports WindowEvent(asleep) with ``reason``.
        Raises: WindowNotFoundError, TmuxError.
        """
        self._require_started()
        return await self._sleep.sleep(self._record(window_id), reason=reason)

    async def set_mode(self, window_id: WindowId, mode: str) -> str | None:
        """Switch the window's agent to ``mode`` (normal, accept-edits, plan, yolo: those its
        provider has) by the CLI's own keys or menu where it has them (each step verified on
        its screen), else by restarting it in that mode with its session resumed (only while
        it is idle). The new mode is kept for later resumes. Returns the mode the screen then
        shows (None: the screen did not show the switch).
        Raises: UnsupportedModeError, WindowBusyError, WindowDeadError, WindowNotFoundError,
        TmuxError.
        """
        self._require_started()
        record = self._touch(self._record(window_id))
        if record.asleep:
            record = self._touch(await self._sleep.wake(record))
        return await self._modes.switch(record, parse_mode(mode))

    async def shown_mode(self, window_id: WindowId) -> str | None:
        """The permission mode the agent's screen shows now ("normal", "yolo", ...), or None
        when it shows none (Codex, a shell, a question on screen). A query.
        Raises: WindowNotFoundError, TmuxError.
        """
        self._require_started()
        return await self._modes.shown(self._record(window_id))

    async def send_key(self, window_id: WindowId, key: str) -> None:
        """Press one named key (``Enter``, ``Escape``, ``Up``, ``C-c``, a digit, ...).

        Serialised with every other keystroke operation on the window.
        Raises: InputRejectedError (unknown key name), WindowNotFoundError, WindowDeadError,
        TmuxError.
        """
        self._require_started()
        await self._input.press(self._touch(self._record(window_id)), key)

    async def interrupt(self, window_id: WindowId) -> bool:
        """Stop the agent's turn with its interrupt key (Escape; Ctrl-C for a shell, whose
        programs ignore Escape), and take back the text we typed last if the CLI
        put it back into its input box (Claude does when stopped before replying), so the
        next send_to_window is not appended to it. Text someone else typed is never cleared.

        Returns whether text was taken back. Serialised with every other keystroke operation.
        Raises: WindowNotFoundError, WindowDeadError, TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        return await self._input.interrupt(record, self.providers.get(record.provider))

    async def answer_prompt(self, window_id: WindowId, choice: int) -> PromptInfo:
        """Pick option ``choice`` of the prompt now on screen and check that it went away.

        Sends the provider's key for the option (a digit for every CLI so far), then watches
        the screen until the prompt is gone or replaced, for up to gateway.answer_timeout.
        Serialised with every other keystroke operation on the window. Returns the prompt
        that was answered.
        Raises: NoPromptError (nothing was sent), InvalidOptionError (nothing was sent;
        carries the valid numbers), PromptStuckError, WindowNotFoundError, WindowDeadError.
        """
        self._require_started()
        record = self._record(window_id)
        return await self._input.answer(record, self.providers.get(record.provider), choice)

    async def capture_pane(self, window_id: WindowId, ansi: bool = False) -> str:
        """The window's visible screen as text (with ANSI escapes when ``ansi``).

        Works on a dead pane too (its last screen). Safe to cancel.
        Raises: WindowNotFoundError, TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        await self._input.verify_ours(record)
        return await self._backend.capture(record.window_id, ansi=ansi)

    async def capture_screenshot(self, window_id: WindowId, *, full: bool = False) -> bytes:
        """The window's screen rendered to PNG, with its colours, CJK and box drawing.

        By default, for a phone: only the rows and columns that hold content and the cursor's
        line, with a one-cell margin, drawn at twice the cell size (fonts twice as large, so
        zoomed text stays sharp) when that content fits in half the pane's width, else at
        the normal size (never wider than the whole pane's picture). ``full``: the whole
        pane at the normal cell size (a 200 x 50 pane is 2024 x 974 px). Rendering runs in a
        worker thread. Safe to cancel.
        Raises: WindowNotFoundError, TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        await self._input.verify_ours(record)
        png = await self._reporter.screenshot(record, full=full)
        if png is None:
            raise WindowNotFoundError(f"window {window_id} is gone", window_id=window_id)
        return png

    async def kill_window(self, window_id: WindowId) -> None:
        """Kill one of our windows, unbind its channels and report it closed.

        Raises: WindowNotFoundError (not a window this gateway created), TmuxError.
        """
        self._require_started()
        await self._ownership.kill(self._record(window_id))

    async def kill_channel_windows(self, channel_id: ChannelId) -> tuple[WindowId, ...]:
        """Kill every window whose record names ``channel_id``; others' windows are untouched.

        Returns the ids of the windows killed. Raises: TmuxError.
        """
        self._require_started()
        return await self._ownership.kill_channel_windows(channel_id)

    async def list_orphaned_agent_windows(self) -> tuple[OrphanWindow, ...]:
        """Agent CLI windows in our tmux session that no record owns. Reported, never killed."""
        self._require_started()
        panes = await self._backend.list_panes(self.config.gateway.tmux_session)
        return find_orphans(panes, self.window_store, self.providers)

    async def survey(self) -> Survey:
        """A read-only look at recorded and live windows, for status tools.

        Needs no start() and takes no lock, so it can run beside a live gateway; it reads
        state.json without repairing it. Raises: TmuxError.
        """
        return await self._reporter.survey()

    async def health(self) -> GatewayHealth:
        """Is tmux holding our session, what do our windows do, which CLIs are installed.

        Provider versions are asked once per gateway (their ``--version`` takes a moment).
        Safe to cancel. Never raises for tmux trouble: that is what it reports.
        """
        self._require_started()
        return await self._reporter.health()

    async def smoke_test(self, provider: str, *, within: float = 30.0) -> SmokeResult:
        """Does the provider's CLI start? Starts it (standard mode, no hooks) in a scratch
        window of our session, waits up to ``within`` seconds for its input box (or a first
        question such as Claude's folder trust), closes the window. Never types anything, so
        no model is asked. One check per provider at a time.
        Raises: UnknownProviderError. A CLI that fails is a result with ok=False, the reason
        and its last screen.
        """
        self._require_started()
        await self._ensure_session()
        return await self._smoke_tests.run(self.providers.get(provider), within=within)

    async def provider_health(self, provider: str) -> ProviderHealth:
        """Whether the provider's CLI is installed, the version it reports (asked once per
        gateway), the version its screens were captured from, and a warning when they differ.
        Raises: UnknownProviderError."""
        return await self._reporter.provider(provider)

    async def _ensure_session(self) -> None:
        settings = self.config.gateway
        created = await self._backend.ensure_session(
            settings.tmux_session,
            width=settings.window_width,
            height=settings.window_height,
            banner=f"cclark gateway: agent windows open next to this one ({settings.tmux_session})",
        )
        if created:
            logger.info("created tmux session %s", settings.tmux_session)

    def windows(self) -> tuple[WindowInfo, ...]:
        """Every window this gateway knows, oldest first."""
        records = sorted(self.window_store, key=lambda r: r.created_at)
        return tuple(WindowInfo.from_record(r) for r in records)

    def window_info(self, window_id: WindowId) -> WindowInfo:
        """Raises: WindowNotFoundError."""
        return WindowInfo.from_record(self._record(window_id))

    # -- bindings ----------------------------------------------------------------------------

    def bind_channel(self, channel_id: ChannelId, window_id: WindowId) -> None:
        """Bind the channel to one of our windows and persist it at once.

        A window without an owner becomes the channel's.
        Raises: WindowNotFoundError, WindowOwnershipError (the window is another channel's).
        """
        self._ownership.bind(channel_id, self._record(window_id))

    def unbind_channel(self, channel_id: ChannelId) -> WindowId | None:
        """Forget the channel's binding (the window keeps running); returns the old window."""
        previous = self.channel_router.unbind(channel_id)
        if previous is not None:
            self._save()
        return previous

    def channel_setting(
        self, channel_id: ChannelId, key: str, default: SettingValue = None
    ) -> SettingValue:
        """A per-channel setting, or ``default``."""
        return self.channel_router.setting(channel_id, key, default)

    def set_channel_setting(self, channel_id: ChannelId, key: str, value: SettingValue) -> None:
        """Store a per-channel setting (e.g. verbose) and persist it at once."""
        self.channel_router.set_setting(channel_id, key, value)
        self._save()

    def installed_providers(self) -> tuple[tuple[str, bool], ...]:
        """Every provider's name and whether its command is on PATH, in a stable order."""
        return tuple((p.name, p.is_installed()) for p in self.providers.all())

    def window_limits(self, window_id: WindowId) -> tuple[float | None, float | None]:
        """The idle and turn timeouts that apply to the window, in seconds (its own, else the
        config's; None: off). Raises: WindowNotFoundError."""
        return self._timers.limits(self._record(window_id))

    def status_of(self, window_id: WindowId) -> tuple[AgentStatus | None, PromptInfo | None]:
        """What the window's screen last showed: its status and the prompt on it, if any.

        Raises: WindowNotFoundError.
        """
        return self.monitor.screens.last(self._record(window_id).record_id)

    async def adopt_window(self, window_id: WindowId, channel_id: ChannelId) -> WindowInfo:
        """Make an orphaned agent window ours, owned by and bound to ``channel_id``.

        Only windows that list_orphaned_agent_windows() reports can be adopted.
        Raises: WindowNotFoundError (not an orphan agent window), TmuxError.
        """
        self._require_started()
        orphan = next((o for o in await self.list_orphaned_agent_windows()
                       if o.window_id == window_id), None)  # fmt: skip
        if orphan is None:
            raise WindowNotFoundError(
                f"window {window_id} is not an orphaned agent window of this session",
                window_id=window_id,
            )
        return WindowInfo.from_record(await self._ownership.adopt(orphan, channel_id))

    # -- internals ---------------------------------------------------------------------------

    async def _note_submission(self, event: AgentMessageEvent) -> None:
        """The person's words in a transcript confirm that typed text was submitted."""
        record = self.window_store.by_window(event.window_id)
        spoke = any(m.role is MessageRole.USER and m.kind is MessageKind.TEXT
                    for m in event.messages)  # fmt: skip
        if record is not None and spoke:
            self.monitor.note_submitted(record.record_id)

    def _touch(self, record: WindowRecord) -> WindowRecord:
        self._timers.touch(record.record_id)
        return record

    async def _sleep_idle(self, record: WindowRecord, limit: float) -> None:
        def still_due() -> bool:
            return self._timers.idle_for(record.record_id) >= limit

        slept = await self._sleep.sleep(record, reason=f"idle for {describe_seconds(limit)}",
                                        still_due=still_due)  # fmt: skip
        if not slept:
            self._timers.touch(record.record_id)  # busy after all: a full period again

    async def _stop_turn(self, record: WindowRecord, limit: float) -> None:
        """A turn ran past its limit: interrupt it and say so."""
        await self._input.interrupt(record, self.providers.get(record.provider))
        logger.info("window %s: turn interrupted after %gs", record.window_id, limit)
        await self._bus.emit(
            WindowEvent(
                window_id=record.window_id,
                kind=WindowChange.TURN_TIMED_OUT,
                channel_ids=self.channel_router.channels_for(record.window_id),
                provider=record.provider,
                reason=f"the turn ran longer than {describe_seconds(limit)}",
            )
        )

    async def _stalled(self, record: WindowRecord, limit: float) -> None:
        """A turn has shown nothing new for a while: say so once (it is not stopped)."""
        logger.info("window %s: no new output for %gs in a running turn", record.window_id,
                    limit)  # fmt: skip
        await self._bus.emit(
            WindowEvent(
                window_id=record.window_id,
                kind=WindowChange.STALLED,
                channel_ids=self.channel_router.channels_for(record.window_id),
                provider=record.provider,
                reason=f"no new output for {describe_seconds(limit)}",
            )
        )

    def _locate_transcript(self, record: WindowRecord) -> Path | None:
        if record.session_id is None:
            return None
        provider = self.providers.get(record.provider)
        return provider.find_transcript(self.config.home, record.session_id)

    def _require_started(self) -> None:
        if self._lifecycle is not _Lifecycle.STARTED:
            raise GatewayStateError(
                f"the gateway is {self._lifecycle.value}; call start() (or use async with) first"
            )

    def _record(self, window_id: WindowId) -> WindowRecord:
        record = self.window_store.by_window(window_id)
        if record is None:
            raise WindowNotFoundError(
                f"window {window_id} is not a window this gateway created "
                "(it was closed, or tmux was restarted)",
                window_id=window_id,
            )
        return record

    async def _load(self, snapshot: StateSnapshot) -> None:
        for record in snapshot.windows:
            self.window_store.add(record)
        for channel, window in snapshot.bindings.items():
            if self.window_store.by_window(window) is not None:
                self.channel_router.bind(channel, window)
        for channel, values in snapshot.channel_settings.items():
            for key, value in values.items():
                self.channel_router.set_setting(channel, key, value)
        cursors, hook_offset = self._watermarks.load(snapshot.offsets, snapshot.hook_offset)
        self._feed.cursors.update(cursors)
        self.monitor.hook_offset = hook_offset
        if snapshot.offsets or snapshot.hook_offset:  # written by an older version: move them
            writes = [Watermarks.cursor(path, c) for path, c in cursors.items()]
            await self.journal.commit(*writes, Watermarks.hook_offset(hook_offset))

    def _save(self) -> None:
        self._state_file.save(
            StateSnapshot(
                windows=self.window_store.snapshot(),
                bindings=self.channel_router.bindings,
                channel_settings=self.channel_router.settings,
            )
        )
