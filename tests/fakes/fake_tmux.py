"""FakeTmux: a TmuxBackend that serves scripted panes and screens and counts its calls."""

from __future__ import annotations

from collections import Counter

from unified_icc.ids import PaneId, WindowId
from unified_icc.tmux import CreatedWindow, PaneInfo, PaneProbe, WindowSpec


def pane(window: str, record: str, *, activity: int = 0, dead: bool = False) -> PaneInfo:
    return PaneInfo(
        window_id=WindowId(window), pane_id=PaneId("%" + window[1:]), record_id=record,
        window_name="w", dead=dead, dead_status=0 if dead else None, dead_signal=None,
        current_command="claude", start_command="claude", pid=1, server_pid=2,
        current_path="/tmp", activity=activity, width=200, height=50,
    )  # fmt: skip


class FakeTmux:
    def __init__(self) -> None:
        self.panes: tuple[PaneInfo, ...] = ()
        self.screens: dict[str, str] = {}
        self.cursors: dict[str, tuple[int, int] | None] = {}
        self.calls: Counter[str] = Counter()

    async def list_panes(self, session: str) -> tuple[PaneInfo, ...]:
        self.calls["list_panes"] += 1
        return self.panes

    async def capture(self, target: WindowId, *, ansi: bool = False, history: int = 0) -> str:
        self.calls["capture"] += 1
        return self.screens.get(target, "")

    async def cursor(self, target: WindowId) -> tuple[int, int] | None:
        self.calls["cursor"] += 1
        return self.cursors.get(target, (0, 0))

    async def create_window(self, spec: WindowSpec) -> CreatedWindow:
        raise AssertionError("not scripted")

    async def send_literal(self, target: WindowId, text: str) -> None:
        self.calls["send_literal"] += 1

    async def paste(self, target: WindowId, text: str) -> None:
        self.calls["paste"] += 1

    async def send_key(self, target: WindowId, key: str) -> None:
        self.calls["send_key"] += 1

    async def kill_window(self, target: WindowId) -> None:
        self.calls["kill_window"] += 1

    async def respawn(self, target: WindowId, spec: WindowSpec) -> None:
        self.calls["respawn"] += 1

    async def probe(self, target: WindowId) -> PaneProbe:
        shown = next((p for p in self.panes if p.window_id == target), None)
        if shown is None:
            return PaneProbe(record_id="", dead=False, dead_status=None)
        return PaneProbe(record_id=shown.record_id, dead=shown.dead, dead_status=shown.dead_status)

    async def mark_window(self, target: WindowId, record_id: str) -> None:
        self.calls["mark_window"] += 1

    async def has_session(self, session: str) -> bool:
        self.calls["has_session"] += 1
        return True

    async def ensure_session(self, session: str, *, width: int, height: int, banner: str) -> bool:
        self.calls["ensure_session"] += 1
        return False

    async def kill_server(self) -> None:
        self.calls["kill_server"] += 1
