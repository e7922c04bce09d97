"""TmuxBackend over libtmux: the only module that imports libtmux.

Owns running tmux commands off the event loop with a timeout, the one-call pane snapshot,
paste-buffer input and the mapping of tmux's stderr to TmuxError; knows nothing of records,
providers or channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import shlex
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path

import libtmux
from libtmux import exc as libtmux_exc

from unified_icc.errors import (
    TmuxError,
    TmuxTimeoutError,
    TmuxUnavailableError,
    WindowNotFoundError,
)
from unified_icc.ids import PaneId, WindowId, parse_pane_id, parse_window_id
from unified_icc.tmux.backend import (
    RECORD_OPTION,
    CreatedWindow,
    PaneInfo,
    PaneProbe,
    WindowSpec,
)

__all__ = ["LibtmuxBackend"]

logger = logging.getLogger(__name__)

_SEP = "\x1f"
_PANE_FIELDS = (
    "window_id",
    "pane_id",
    RECORD_OPTION,
    "pane_dead",
    "pane_dead_status",
    "pane_dead_signal",
    "pid",
    "pane_pid",
    "window_activity",
    "pane_width",
    "pane_height",
    "pane_current_command",
    "pane_current_path",
    "window_name",
    "pane_start_command",
)
_PANE_FORMAT = _SEP.join(f"#{{{name}}}" for name in _PANE_FIELDS)
# A process that waits quietly until respawn-pane replaces it with the agent, so that
# remain-on-exit and our record id are set before the agent starts.
_PLACEHOLDER = ("tail", "-f", "/dev/null")
_GONE_MARKERS = ("no server running", "error connecting to", "server exited")
_MISSING_MARKERS = ("can't find", "no such")


class LibtmuxBackend:
    """Runs tmux through libtmux in worker threads, each command bounded by ``timeout``."""

    def __init__(
        self,
        *,
        socket_name: str | None = None,
        timeout: float = 10.0,
        scratch_dir: Path | None = None,
    ) -> None:
        self._server = libtmux.Server(socket_name=socket_name)
        self._timeout = timeout
        self._scratch_dir = scratch_dir

    async def list_panes(self, session: str) -> tuple[PaneInfo, ...]:
        panes = await self._list_panes(session)
        unreaped = {p.server_pid for p in panes if p.dead and p.exit_unknown and p.server_pid}
        if not unreaped:
            return panes
        # tmux 3.3 sometimes misses the SIGCHLD of an exiting pane and leaves it a zombie with
        # no exit status; another SIGCHLD makes it reap every child. Nudge once, look again.
        for server_pid in unreaped:
            with contextlib.suppress(OSError):
                os.kill(server_pid, signal.SIGCHLD)
        return await self._list_panes(session)

    async def _list_panes(self, session: str) -> tuple[PaneInfo, ...]:
        try:
            lines = await self._run("list-panes", "-s", "-t", f"={session}", "-F", _PANE_FORMAT)
        except (TmuxUnavailableError, WindowNotFoundError):
            return ()
        return tuple(_parse_pane(line) for line in lines if line)

    async def create_window(self, spec: WindowSpec) -> CreatedWindow:
        created = await self._spawn_placeholder(spec)
        setup: list[str] = [
            "set-option", "-w", "-t", created.window_id, "remain-on-exit", "on", ";",
            "set-option", "-w", "-t", created.window_id, RECORD_OPTION, spec.record_id, ";",
        ]  # fmt: skip
        if spec.pipe_to is not None:  # before the agent starts, so no byte is missed
            pipe = f"cat >> {shlex.quote(str(spec.pipe_to))}"
            setup += ["pipe-pane", "-t", created.pane_id, pipe, ";"]
        setup += _respawn_args(created.pane_id, spec)
        try:
            await self._run(*setup)
        except TmuxError:
            await self._kill_quietly(created.window_id)
            raise
        return created

    async def respawn(self, target: WindowId, spec: WindowSpec) -> None:
        await self._run(*_respawn_args(target, spec))

    async def send_literal(self, target: WindowId, text: str) -> None:
        await self._run("send-keys", "-t", target, "-l", "--", text)

    async def paste(self, target: WindowId, text: str) -> None:
        buffer = f"unified-icc-{secrets.token_hex(6)}"
        path = await asyncio.to_thread(self._write_scratch, text)
        try:
            await self._run("load-buffer", "-b", buffer, str(path))
        finally:
            await asyncio.to_thread(path.unlink, True)
        await self._run("paste-buffer", "-p", "-d", "-b", buffer, "-t", target)

    async def send_key(self, target: WindowId, key: str) -> None:
        await self._run("send-keys", "-t", target, key)

    async def capture(self, target: WindowId, *, ansi: bool = False, history: int = 0) -> str:
        flags = ["-p", "-e"] if ansi else ["-p"]
        if history > 0:
            flags += ["-S", str(-history)]
        lines = await self._run("capture-pane", *flags, "-t", target)
        return "\n".join(lines)

    async def cursor(self, target: WindowId) -> tuple[int, int] | None:
        fmt = _SEP.join(("#{cursor_x}", "#{cursor_y}", "#{cursor_flag}"))
        lines = await self._run("display-message", "-p", "-t", target, fmt)
        x, y, shown = [*(lines[0] if lines else "").split(_SEP), "", "", ""][:3]
        column, row = _int_or_none(x), _int_or_none(y)
        if shown != "1" or column is None or row is None:
            return None
        return column, row

    async def kill_window(self, target: WindowId) -> None:
        await self._run("kill-window", "-t", target)

    async def probe(self, target: WindowId) -> PaneProbe:
        fmt = _SEP.join((f"#{{{RECORD_OPTION}}}", "#{pane_dead}", "#{pane_dead_status}"))
        lines = await self._run("display-message", "-p", "-t", target, fmt)
        fields = [*(lines[0] if lines else "").split(_SEP), "", "", ""]
        record_id, dead, status = fields[:3]
        return PaneProbe(record_id=record_id, dead=dead == "1", dead_status=_int_or_none(status))

    async def kill_server(self) -> None:
        try:
            await self._run("kill-server")
        except (TmuxUnavailableError, WindowNotFoundError):
            return

    async def _spawn_placeholder(self, spec: WindowSpec) -> CreatedWindow:
        fmt = "#{window_id} #{pane_id}"
        common = ["-d", "-P", "-F", fmt, "-n", spec.name, "-c", str(spec.cwd)]
        if await self.has_session(spec.session):
            lines = await self._run("new-window", *common, "-t", f"={spec.session}:",
                                    "--", *_PLACEHOLDER)  # fmt: skip
        else:
            size = ["-x", str(spec.width), "-y", str(spec.height)]
            lines = await self._run("new-session", "-s", spec.session, *size, *common,
                                    "--", *_PLACEHOLDER)  # fmt: skip
        if not lines or " " not in lines[0]:
            raise TmuxError(f"tmux did not report the new window: {lines!r}",
                            subcommand="new-window")  # fmt: skip
        window_id, pane_id = lines[0].split(" ", 1)
        return CreatedWindow(window_id=parse_window_id(window_id), pane_id=parse_pane_id(pane_id))

    async def mark_window(self, target: WindowId, record_id: str) -> None:
        await self._run("set-option", "-w", "-t", target, RECORD_OPTION, record_id)

    async def ensure_session(self, session: str, *, width: int, height: int, banner: str) -> bool:
        # tmux keeps a session only while it has a window: a quiet home window holds it, so
        # the session (and `tmux attach -t <session>`) exists before the first agent does.
        if await self.has_session(session):
            return False
        command = f"printf '%s\\n' {shlex.quote(banner)}; exec tail -f /dev/null"
        await self._run("new-session", "-d", "-s", session, "-n", "home",
                        "-x", str(width), "-y", str(height), "--", "sh", "-c", command)  # fmt: skip
        return True

    async def has_session(self, session: str) -> bool:
        try:
            await self._run("has-session", "-t", f"={session}")
        except (TmuxUnavailableError, WindowNotFoundError):
            return False
        return True

    async def _kill_quietly(self, target: WindowId) -> None:
        try:
            await self.kill_window(target)
        except TmuxError as exc:
            logger.warning("could not remove half-created window %s: %s", target, exc)

    def _write_scratch(self, text: str) -> Path:
        if self._scratch_dir is not None:
            self._scratch_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="paste-", dir=self._scratch_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return Path(name)

    async def _run(self, subcommand: str, *args: str) -> list[str]:
        try:
            async with asyncio.timeout(self._timeout):
                result = await asyncio.to_thread(self._server.cmd, subcommand, *args)
        except TimeoutError:
            raise TmuxTimeoutError(
                f"tmux {subcommand} did not answer within {self._timeout:g}s",
                subcommand=subcommand,
            ) from None
        except libtmux_exc.TmuxCommandNotFound:
            raise TmuxUnavailableError(
                "tmux is not installed or not on PATH: install tmux 3.2 or newer",
                subcommand=subcommand,
            ) from None
        if result.returncode != 0:
            raise _error_from_stderr(subcommand, args, result.stderr)
        stdout: list[str] = result.stdout
        return stdout


def _respawn_args(target: str, spec: WindowSpec) -> list[str]:
    args = ["respawn-pane", "-k", "-t", target, "-c", str(spec.cwd)]
    for key, value in spec.env.items():
        args += ["-e", f"{key}={value}"]
    return [*args, "--", *spec.argv]


def _error_from_stderr(
    subcommand: str, args: Sequence[str], stderr: list[str]
) -> TmuxError | WindowNotFoundError:
    message = "; ".join(stderr) or f"tmux {subcommand} failed"
    lowered = message.lower()
    target = _target_of(args)
    if any(marker in lowered for marker in _GONE_MARKERS):
        if target is not None:
            return WindowNotFoundError(
                f"window {target} is gone: the tmux server is not running", window_id=target
            )
        return TmuxUnavailableError(f"the tmux server is not running ({message})",
                                    subcommand=subcommand)  # fmt: skip
    if any(marker in lowered for marker in _MISSING_MARKERS) and target is not None:
        return WindowNotFoundError(f"window {target} does not exist in tmux", window_id=target)
    return TmuxError(f"tmux {subcommand} failed: {message}", subcommand=subcommand)


def _target_of(args: Sequence[str]) -> str | None:
    for flag, value in itertools.pairwise(args):
        if flag == "-t":
            return value
    return None


def _parse_pane(line: str) -> PaneInfo:
    parts = line.split(_SEP, len(_PANE_FIELDS) - 1)
    parts += [""] * (len(_PANE_FIELDS) - len(parts))
    (window_id, pane_id, record_id, dead, dead_status, dead_signal, server_pid, pid, activity,
     width, height, current_command, current_path, window_name, start_command) = parts  # fmt: skip
    status, signal = _int_or_none(dead_status), _int_or_none(dead_signal)
    return PaneInfo(
        window_id=WindowId(window_id),
        pane_id=PaneId(pane_id),
        record_id=record_id,
        window_name=window_name,
        dead=dead == "1",
        dead_status=status,
        dead_signal=signal,
        current_command=current_command,
        start_command=start_command,
        pid=_int_or_none(pid),
        server_pid=_int_or_none(server_pid),
        current_path=current_path,
        activity=_int_or_none(activity) or 0,
        width=_int_or_none(width) or 0,
        height=_int_or_none(height) or 0,
    )


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
