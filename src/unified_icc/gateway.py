"""UnifiedICC: the gateway facade a frontend drives (names fixed by the design, §3).

Composes config, tmux backend, providers, window store, channel router, state file and
session monitor; owns the lifecycle and the per-window keystroke locks. Holds no parsing
logic and knows nothing of any chat platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Self

from unified_icc.channel_router import ChannelRouter
from unified_icc.config import Config, load_config
from unified_icc.errors import (
    GatewayStateError,
    InvalidOptionError,
    NoPromptError,
    PromptPendingError,
    PromptStuckError,
    ProviderNotInstalledError,
    TmuxError,
    WindowDeadError,
    WindowNotFoundError,
    WindowOwnershipError,
)
from unified_icc.event_bus import EventBus
from unified_icc.events import (
    AgentMessageEvent,
    AgentStatus,
    PromptInfo,
    StatusEvent,
    WindowChange,
    WindowEvent,
)
from unified_icc.hook import EVENTS_FILE_NAME, HookEventsFile, hook_command, write_hook_settings
from unified_icc.ids import ChannelId, RecordId, SessionId, WindowId, new_record_id, new_session_id
from unified_icc.persistence import StateFile, StateLock, StateSnapshot
from unified_icc.providers import HookWiring, Mode, Provider, ProviderRegistry, parse_mode
from unified_icc.session_monitor import SessionMonitor
from unified_icc.tmux import (
    DeliveryMethod,
    LibtmuxBackend,
    PaneInfo,
    PaneProbe,
    TmuxBackend,
    WindowSpec,
    normalise_key,
    plan_text,
)
from unified_icc.transcript_feed import TranscriptFeed
from unified_icc.window_store import WindowRecord, WindowStore
from unified_icc.workspace import Workspace

__all__ = ["OrphanWindow", "Survey", "SurveyRow", "UnifiedICC", "WindowInfo"]

logger = logging.getLogger(__name__)


class _Lifecycle(StrEnum):
    NEW = "new"
    STARTED = "started"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowInfo:
    """A window of this gateway, as callers see it."""

    window_id: WindowId
    provider: str
    mode: str
    cwd: Path
    created_at: str
    session_id: SessionId | None = None
    channel_id: ChannelId | None = None
    dead: bool = False
    exit_status: int | None = None

    @classmethod
    def from_record(cls, record: WindowRecord) -> WindowInfo:
        return cls(
            window_id=record.window_id,
            provider=record.provider,
            mode=record.mode,
            cwd=Path(record.cwd),
            created_at=record.created_at,
            session_id=record.session_id,
            channel_id=record.channel_id,
            dead=record.dead,
            exit_status=record.exit_status,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrphanWindow:
    """An agent CLI window in our tmux session that no record of ours owns."""

    window_id: WindowId
    window_name: str
    provider: str
    command: str
    cwd: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyRow:
    window: WindowInfo
    state: str  # running | exited | gone
    channels: tuple[ChannelId, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Survey:
    windows: tuple[SurveyRow, ...]
    orphans: tuple[OrphanWindow, ...]
    tmux_panes: int


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
        self._bus = EventBus()
        self._hooks_dir = config.config_dir / "hooks"
        self._feed = TranscriptFeed(
            store=self.window_store,
            router=self.channel_router,
            bus=self._bus,
            cursors={},
            persist=self._save,
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
            home=config.home,
            locate=self._locate_transcript,
        )
        self._window_locks: dict[RecordId, asyncio.Lock] = {}
        self._ready: set[RecordId] = set()
        self._lifecycle = _Lifecycle.NEW

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
            self._load(self._state_file.load())
            await self.monitor.catch_up()
            await self.monitor.reconcile(startup=True)
            self._save()
            await self.monitor.start()
        except BaseException:
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
            await self.monitor.stop()
            self._save()
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

    # -- windows -----------------------------------------------------------------------------

    async def create_window(
        self,
        path: Path | str,
        provider: str = "claude",
        mode: str = "normal",
        *,
        channel_id: ChannelId | None = None,
    ) -> WindowInfo:
        """Open a tmux window in ``path`` whose own command is the provider's CLI.

        The window keeps its pane when the agent exits (remain-on-exit) and carries our
        record id as a tmux user option. When ``channel_id`` is given the window belongs to
        that channel and the channel is bound to it. Not cancel-safe once tmux was called.
        Raises: UnknownProviderError, UnsupportedModeError, ProviderNotInstalledError,
        PathRejectedError (missing, not a directory, outside the workspace roots), TmuxError.
        """
        self._require_started()
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
        record = await self._launch(chosen, chosen_mode, cwd, channel_id)
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
        Enter follows as a separate key after the provider's pause. Serialised with every
        other keystroke operation on the window; each tmux call is bounded by
        gateway.tmux_timeout. Not cancel-safe once typing started.
        Raises: InputRejectedError (empty, too long, control characters),
        WindowNotFoundError, WindowDeadError, TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        delivery = plan_text(text, max_chars=self.config.gateway.max_text_chars)
        provider = self.providers.get(record.provider)
        async with self._window_lock(record):
            await self._verify_alive(record)
            await self._await_input_box(record)
            if delivery.method is DeliveryMethod.PASTE:
                await self._backend.paste(record.window_id, delivery.text)
            else:
                await self._backend.send_literal(record.window_id, delivery.text)
            if provider.submit_delay:
                await asyncio.sleep(provider.submit_delay)
            await self._submit(record, provider, slash=delivery.text.startswith("/"))

    async def _await_input_box(self, record: WindowRecord) -> None:
        """Wait until the agent shows its input box; refuse while a prompt waits for a number.

        A TUI that is still starting discards what is typed, and text typed into a prompt
        could answer it.
        """
        timeout = self.config.gateway.ready_timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    shown = await self.monitor.screens.look_now(record)
                    if shown.status is AgentStatus.PROMPT:
                        raise PromptPendingError(
                            f"the agent in window {record.window_id} is waiting for an answer "
                            "to the prompt on its screen; answer it with a number first",
                            window_id=record.window_id,
                        )
                    if shown.status is AgentStatus.IDLE or self._has_been_ready(record):
                        self._ready.add(record.record_id)
                        return
                    await asyncio.sleep(0.1)
        logger.warning("window %s: no input box after %gs; typing anyway",
                       record.window_id, timeout)  # fmt: skip

    def _has_been_ready(self, record: WindowRecord) -> bool:
        # Once ready, a busy agent queues typed text itself (Claude and Codex do).
        return record.record_id in self._ready

    async def _submit(self, record: WindowRecord, provider: Provider, *, slash: bool) -> None:
        """Press Enter; where hooks confirm a submission, press it once more if none came.

        Slash commands (``/clear``) are the CLI's own and fire no UserPromptSubmit hook.
        """
        if slash or "UserPromptSubmit" not in provider.hook_events:
            await self._backend.send_key(record.window_id, "Enter")
            return
        timeout = self.config.gateway.submit_timeout
        for attempt in (1, 2):
            submitted = self.monitor.expect_submit(record.record_id)
            await self._backend.send_key(record.window_id, "Enter")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await submitted.wait()
                    return
            logger.warning("window %s: no submission seen %.0fs after Enter (attempt %d)",
                           record.window_id, timeout, attempt)  # fmt: skip

    async def send_key(self, window_id: WindowId, key: str) -> None:
        """Press one named key (``Enter``, ``Escape``, ``Up``, ``C-c``, a digit, ...).

        Serialised with every other keystroke operation on the window.
        Raises: InputRejectedError (unknown key name), WindowNotFoundError, WindowDeadError,
        TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        tmux_key, literal = normalise_key(key)
        async with self._window_lock(record):
            await self._verify_alive(record)
            if literal:
                await self._backend.send_literal(record.window_id, tmux_key)
            else:
                await self._backend.send_key(record.window_id, tmux_key)

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
        provider = self.providers.get(record.provider)
        async with self._window_lock(record):
            await self._verify_alive(record)
            shown = await self.monitor.screens.look_now(record)
            prompt = shown.prompt
            if shown.status is not AgentStatus.PROMPT or prompt is None:
                raise NoPromptError(
                    f"there is no prompt on the screen of window {window_id}; nothing was sent",
                    window_id=window_id,
                )
            valid = tuple(option.number for option in prompt.options)
            if choice not in valid:
                listed = ", ".join(map(str, valid))
                raise InvalidOptionError(
                    f"option {choice} is not on screen; reply with one of {listed}",
                    window_id=window_id,
                    valid=valid,
                )
            await self._backend.send_literal(record.window_id, provider.option_key(choice))
            await self._await_prompt_gone(record, prompt)
        return prompt

    async def _await_prompt_gone(self, record: WindowRecord, prompt: PromptInfo) -> None:
        timeout = self.config.gateway.answer_timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    shown = await self.monitor.screens.look_now(record)
                    if shown.prompt is None or shown.prompt.raw != prompt.raw:
                        return
                    await asyncio.sleep(0.05)
        raise PromptStuckError(
            f"the prompt in window {record.window_id} is still on screen {timeout:g}s after "
            "the answer; look at the terminal (#screenshot)",
            window_id=record.window_id,
        )

    async def capture_pane(self, window_id: WindowId, ansi: bool = False) -> str:
        """The window's visible screen as text (with ANSI escapes when ``ansi``).

        Works on a dead pane too (its last screen). Safe to cancel.
        Raises: WindowNotFoundError, TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        await self._verify_ours(record)
        return await self._backend.capture(record.window_id, ansi=ansi)

    async def kill_window(self, window_id: WindowId) -> None:
        """Kill one of our windows, unbind its channels and report it closed.

        Raises: WindowNotFoundError (not a window this gateway created), TmuxError.
        """
        self._require_started()
        record = self._record(window_id)
        self.window_store.remove(record.record_id)
        try:
            await self._verify_ours(record)
            await self._backend.kill_window(record.window_id)
        except WindowNotFoundError:
            pass  # already gone: the record goes all the same
        except TmuxError:
            self.window_store.add(record)
            raise
        channels = self.channel_router.unbind_window(record.window_id)
        self._window_locks.pop(record.record_id, None)
        self.monitor.forget(record)
        self._hook_settings_path(record.record_id).unlink(missing_ok=True)
        self._save()
        logger.info("killed window %s (%s)", record.window_id, record.provider)
        await self._bus.emit(
            WindowEvent(
                window_id=record.window_id,
                kind=WindowChange.CLOSED,
                channel_ids=channels,
                provider=record.provider,
            )
        )

    async def kill_channel_windows(self, channel_id: ChannelId) -> tuple[WindowId, ...]:
        """Kill every window whose record names ``channel_id``; others' windows are untouched.

        Returns the ids of the windows killed. Raises: TmuxError.
        """
        self._require_started()
        killed = []
        for record in self.window_store.owned_by(channel_id):
            await self.kill_window(record.window_id)
            killed.append(record.window_id)
        if self.channel_router.unbind(channel_id) is not None:
            self._save()
        return tuple(killed)

    async def list_orphaned_agent_windows(self) -> tuple[OrphanWindow, ...]:
        """Agent CLI windows in our tmux session that no record owns. Reported, never killed."""
        self._require_started()
        return self._orphans(await self._backend.list_panes(self.config.gateway.tmux_session))

    async def survey(self) -> Survey:
        """A read-only look at recorded and live windows, for status tools.

        Needs no start() and takes no lock, so it can run beside a live gateway; it reads
        state.json without repairing it. Raises: TmuxError.
        """
        snapshot = self._state_file.load(repair=False)
        panes = await self._backend.list_panes(self.config.gateway.tmux_session)
        live = {pane.record_id: pane for pane in panes if pane.record_id}
        known = {record.record_id for record in snapshot.windows}
        rows = []
        for record in sorted(snapshot.windows, key=lambda r: r.created_at):
            pane = live.get(record.record_id)
            state = "gone" if pane is None else ("exited" if pane.dead else "running")
            channels = tuple(c for c, w in snapshot.bindings.items() if w == record.window_id)
            rows.append(SurveyRow(window=WindowInfo.from_record(record), state=state,
                                  channels=channels))  # fmt: skip
        orphans = self._orphans(tuple(p for p in panes if p.record_id not in known))
        return Survey(windows=tuple(rows), orphans=orphans, tmux_panes=len(panes))

    def _orphans(self, panes: tuple[PaneInfo, ...]) -> tuple[OrphanWindow, ...]:
        orphans: dict[WindowId, OrphanWindow] = {}
        for pane in panes:
            if pane.window_id in orphans or self.window_store.get(pane.record_id) is not None:
                continue
            provider = self.providers.identify(pane.current_command, pane.start_command)
            if provider is None or pane.dead:
                continue
            orphans[pane.window_id] = OrphanWindow(
                window_id=pane.window_id,
                window_name=pane.window_name,
                provider=provider.name,
                command=pane.start_command or pane.current_command,
                cwd=pane.current_path,
            )
        return tuple(orphans.values())

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
        record = self._record(window_id)
        if record.channel_id not in (None, channel_id):
            raise WindowOwnershipError(
                f"window {window_id} belongs to another chat; start your own with #new",
                window_id=window_id,
            )
        if record.channel_id is None:
            self.window_store.update(record.record_id, channel_id=channel_id)
        self.channel_router.bind(channel_id, window_id)
        self._save()

    def unbind_channel(self, channel_id: ChannelId) -> WindowId | None:
        """Forget the channel's binding (the window keeps running); returns the old window."""
        previous = self.channel_router.unbind(channel_id)
        if previous is not None:
            self._save()
        return previous

    # -- internals ---------------------------------------------------------------------------

    async def _launch(
        self, provider: Provider, mode: Mode, cwd: Path, channel_id: ChannelId | None
    ) -> WindowRecord:
        session_id = new_session_id() if provider.assigns_session_id else None
        record_id = new_record_id()
        hooks = await self._wire_hooks(provider, record_id)
        plan = provider.launch(mode, session_id=session_id, hooks=hooks)
        gateway = self.config.gateway
        created = await self._backend.create_window(
            WindowSpec(
                session=gateway.tmux_session,
                record_id=record_id,
                name=f"{provider.name}:{cwd.name or '/'}"[:60],
                cwd=cwd,
                argv=plan.argv,
                env=plan.env,
                width=gateway.window_width,
                height=gateway.window_height,
            )
        )
        record = WindowRecord(
            record_id=record_id,
            window_id=created.window_id,
            provider=provider.name,
            mode=mode.value,
            cwd=str(cwd),
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            channel_id=channel_id,
            session_id=plan.session_id,
        )
        self.window_store.add(record)
        self.monitor.rewatch()
        return record

    async def _wire_hooks(self, provider: Provider, record_id: RecordId) -> HookWiring | None:
        if not provider.hook_events:
            return None
        command = hook_command(
            python=sys.executable, events_file=self.monitor.hooks_path, record_id=record_id
        )
        settings = None
        if provider.hook_settings_file:
            settings = await asyncio.to_thread(
                write_hook_settings,
                self._hook_settings_path(record_id),
                command=command,
                events=provider.hook_events,
            )
        return HookWiring(command=command, settings_file=settings)

    def _hook_settings_path(self, record_id: RecordId) -> Path:
        return self._hooks_dir / f"settings-{record_id}.json"

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

    def _window_lock(self, record: WindowRecord) -> asyncio.Lock:
        return self._window_locks.setdefault(record.record_id, asyncio.Lock())

    async def _verify_ours(self, record: WindowRecord) -> PaneProbe:
        """Check tmux still shows our record id at that window id (ids are re-used)."""
        probe = await self._backend.probe(record.window_id)
        if probe.record_id != record.record_id:
            raise WindowNotFoundError(
                f"window {record.window_id} is no longer the {record.provider} window this "
                "gateway created (tmux was restarted and re-used the id)",
                window_id=record.window_id,
            )
        return probe

    async def _verify_alive(self, record: WindowRecord) -> None:
        probe = await self._verify_ours(record)
        if record.dead or probe.dead:
            status = record.exit_status if record.dead else probe.dead_status
            raise WindowDeadError(
                f"the {record.provider} agent in window {record.window_id} has exited"
                + (f" (status {status})" if status is not None else "")
                + "; start a new session",
                window_id=record.window_id,
                exit_status=status,
            )

    def _load(self, snapshot: StateSnapshot) -> None:
        for record in snapshot.windows:
            self.window_store.add(record)
        for channel, window in snapshot.bindings.items():
            if self.window_store.by_window(window) is not None:
                self.channel_router.bind(channel, window)
        for channel, values in snapshot.channel_settings.items():
            for key, value in values.items():
                self.channel_router.set_setting(channel, key, value)
        self._feed.cursors.update(snapshot.offsets)
        self.monitor.hook_offset = snapshot.hook_offset

    def _save(self) -> None:
        self._state_file.save(
            StateSnapshot(
                windows=self.window_store.snapshot(),
                bindings=self.channel_router.bindings,
                channel_settings=self.channel_router.settings,
                offsets=dict(self._feed.cursors),
                hook_offset=self.monitor.hook_offset,
            )
        )
