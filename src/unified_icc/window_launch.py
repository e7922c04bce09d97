"""WindowLauncher: turns a provider, a mode and a directory into a running window and its record.

Owns the launch plan (session id, hook wiring, per-window hook settings file) and the tmux
window spec; knows nothing of channels, state files or events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

from unified_icc.config import GatewaySettings
from unified_icc.hook import hook_command, write_hook_settings
from unified_icc.ids import ChannelId, RecordId, new_record_id, new_session_id
from unified_icc.providers import HookWiring, LaunchPlan, Mode, Provider
from unified_icc.tmux import TmuxBackend, WindowSpec
from unified_icc.window_store import WindowRecord

__all__ = ["WindowLauncher", "resumable"]


class WindowLauncher:
    def __init__(
        self,
        *,
        backend: TmuxBackend,
        settings: GatewaySettings,
        hooks_dir: Path,
        events_file: Path,
        outputs_dir: Path,
    ) -> None:
        self._backend = backend
        self._settings = settings
        self._hooks_dir = hooks_dir
        self._events_file = events_file
        self._outputs_dir = outputs_dir

    async def launch(
        self, provider: Provider, mode: Mode, cwd: Path, channel_id: ChannelId | None
    ) -> WindowRecord:
        """Start the agent as its window's own command and return the window's record.

        Raises: TmuxError (nothing is left behind in tmux when the window cannot be set up).
        """
        session_id = new_session_id() if provider.assigns_session_id else None
        record_id = new_record_id()
        hooks = await self._wire_hooks(provider, record_id)
        plan = provider.launch(mode, session_id=session_id, hooks=hooks)
        output = await self._output_file(provider, record_id)
        created = await self._backend.create_window(
            self._spec(record_id, provider, cwd, plan, pipe_to=output)
        )
        return WindowRecord(
            record_id=record_id,
            window_id=created.window_id,
            provider=provider.name,
            mode=mode.value,
            cwd=str(cwd),
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            channel_id=channel_id,
            session_id=plan.session_id,
            transcript_path=str(output) if output else None,
        )

    async def relaunch(self, record: WindowRecord, provider: Provider) -> WindowRecord:
        """Start the agent again as the record's window's command, reopening its session when
        the CLI can and the session has a transcript (a session never written to cannot be
        reopened: the agent then starts afresh). Returns the record as it now is.

        Raises: TmuxError.
        """
        mode = Mode(record.mode)
        hooks = await self._wire_hooks(provider, record.record_id)
        if resumable(record, provider) and record.session_id is not None:
            plan = provider.resume(mode, record.session_id, hooks=hooks)
            transcript = record.transcript_path
        else:
            session_id = new_session_id() if provider.assigns_session_id else None
            plan = provider.launch(mode, session_id=session_id, hooks=hooks)
            transcript = record.transcript_path if provider.name == "shell" else None
        spec = self._spec(record.record_id, provider, Path(record.cwd), plan, pipe_to=None)
        await self._backend.respawn(record.window_id, spec)
        return dataclasses.replace(
            record, dead=False, asleep=False, exit_status=None,
            session_id=plan.session_id, transcript_path=transcript,
        )  # fmt: skip

    def _spec(
        self, record_id: RecordId, provider: Provider, cwd: Path, plan: LaunchPlan,
        *, pipe_to: Path | None,
    ) -> WindowSpec:  # fmt: skip
        return WindowSpec(
            session=self._settings.tmux_session,
            record_id=record_id,
            name=f"{provider.name}:{cwd.name or '/'}"[:60],
            cwd=cwd,
            argv=plan.argv,
            env=plan.env,
            width=self._settings.window_width,
            height=self._settings.window_height,
            pipe_to=pipe_to,
        )

    def discard(self, record: WindowRecord) -> None:
        """Remove what was written for the window (hook settings, a shell's output file)."""
        self._settings_path(record.record_id).unlink(missing_ok=True)
        self._output_path(record.record_id).unlink(missing_ok=True)

    async def _output_file(self, provider: Provider, record_id: RecordId) -> Path | None:
        """A plain shell has no transcript: its pane's output, piped to a file, stands in."""
        if provider.name != "shell":
            return None
        path = self._output_path(record_id)
        await asyncio.to_thread(_create_private, path)
        return path

    def _output_path(self, record_id: RecordId) -> Path:
        return self._outputs_dir / f"shell-{record_id}.out"

    async def _wire_hooks(self, provider: Provider, record_id: RecordId) -> HookWiring | None:
        if not provider.hook_events:
            return None
        # The gateway's own interpreter runs the hook, so it finds unified_icc wherever the
        # agent's cwd or PATH points.
        command = hook_command(
            python=sys.executable, events_file=self._events_file, record_id=record_id
        )
        settings = None
        if provider.hook_settings_file:
            settings = await asyncio.to_thread(
                write_hook_settings,
                self._settings_path(record_id),
                command=command,
                events=provider.hook_events,
            )
        return HookWiring(command=command, settings_file=settings)

    def _settings_path(self, record_id: RecordId) -> Path:
        return self._hooks_dir / f"settings-{record_id}.json"


def resumable(record: WindowRecord, provider: Provider) -> bool:
    """Whether the record's session can be reopened: a CLI that resumes, and a transcript
    on disk (a CLI writes none before the first message, and cannot reopen such a session)."""
    if not provider.resumable or record.session_id is None or not record.transcript_path:
        return False
    return Path(record.transcript_path).is_file()


def _create_private(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)

