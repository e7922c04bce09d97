"""The TmuxBackend protocol (the test seam) and the value types it speaks.

Owns the shape of a pane snapshot and of a window to create; no tmux calls here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from unified_icc.ids import PaneId, WindowId

__all__ = ["CreatedWindow", "PaneInfo", "PaneProbe", "TmuxBackend", "WindowSpec"]

# The tmux user option that carries the gateway's record id on each window it created.
RECORD_OPTION = "@unified_icc_id"


@dataclass(frozen=True, slots=True, kw_only=True)
class PaneInfo:
    """One pane of the session, as a single ``list-panes`` call reports it."""

    window_id: WindowId
    pane_id: PaneId
    record_id: str
    window_name: str
    dead: bool
    dead_status: int | None
    dead_signal: int | None
    current_command: str
    start_command: str
    pid: int | None
    server_pid: int | None
    current_path: str
    activity: int
    width: int
    height: int

    @property
    def exit_unknown(self) -> bool:
        """Dead, but tmux has not yet learned how the process ended."""
        return self.dead_status is None and self.dead_signal is None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaneProbe:
    """Who owns a window and whether its process lives, checked just before typing into it."""

    record_id: str
    dead: bool
    dead_status: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowSpec:
    """A window to create: the agent is its own command, never typed into a shell."""

    session: str
    record_id: str
    name: str
    cwd: Path
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    width: int = 200
    height: int = 50
    pipe_to: Path | None = None  # append everything the pane prints to this file


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedWindow:
    window_id: WindowId
    pane_id: PaneId


class TmuxBackend(Protocol):
    """What the gateway needs from tmux. Every call is bounded by the backend's timeout."""

    async def list_panes(self, session: str) -> tuple[PaneInfo, ...]:
        """Every pane of ``session`` in one tmux call; () when the session or server is gone."""

    async def create_window(self, spec: WindowSpec) -> CreatedWindow:
        """Create the window (and the session if needed) running ``spec.argv``."""

    async def send_literal(self, target: WindowId, text: str) -> None:
        """Type ``text`` as literal characters (no key-name lookup)."""

    async def paste(self, target: WindowId, text: str) -> None:
        """Paste ``text`` with bracketed paste, as a terminal paste would."""

    async def send_key(self, target: WindowId, key: str) -> None:
        """Press one named tmux key (already normalised)."""

    async def capture(self, target: WindowId, *, ansi: bool = False, history: int = 0) -> str:
        """The visible screen of the window's pane, optionally with ANSI escapes, after up to
        ``history`` lines of its scrollback."""

    async def cursor(self, target: WindowId) -> tuple[int, int] | None:
        """The pane's cursor as (column, row) from the top left of the visible screen;
        None while the application hides it."""

    async def kill_window(self, target: WindowId) -> None:
        """Kill the window and its process."""

    async def respawn(self, target: WindowId, spec: WindowSpec) -> None:
        """Run ``spec.argv`` as the window's command again, in ``spec.cwd``, killing what runs
        there; the window, its id, options and output pipe stay."""

    async def probe(self, target: WindowId) -> PaneProbe:
        """The window's record id option ('' when unset) and whether its pane is dead."""

    async def mark_window(self, target: WindowId, record_id: str) -> None:
        """Set our record id option on an existing window (adopting it)."""

    async def has_session(self, session: str) -> bool:
        """Whether the tmux server answers and holds ``session``."""

    async def ensure_session(self, session: str, *, width: int, height: int, banner: str) -> bool:
        """Create ``session`` (with a quiet home window showing ``banner``) if it is missing;
        returns whether it was created."""

    async def kill_server(self) -> None:
        """Stop the tmux server (tests and tear-down only)."""
