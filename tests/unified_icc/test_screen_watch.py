"""ScreenWatch captures only what changed, so idle windows cost nothing but the one listing."""

from __future__ import annotations

import time

from fakes.fake_tmux import FakeTmux, pane
from unified_icc import AgentStatus, StatusEvent, WindowId
from unified_icc.channel_router import ChannelRouter
from unified_icc.event_bus import EventBus
from unified_icc.ids import RecordId
from unified_icc.screen_watch import ScreenWatch
from unified_icc.window_store import WindowRecord, WindowStore

IDLE = "\u2500" * 40 + "\n\u276f\u00a0\n" + "\u2500" * 40 + "\n  ? for shortcuts"
BUSY = "\u2500" * 40 + "\n\u276f\u00a0\n" + "\u2500" * 40 + "\n  esc to interrupt"


def _world(count: int) -> tuple[FakeTmux, WindowStore, ScreenWatch, list[StatusEvent]]:
    tmux, store, bus, events = FakeTmux(), WindowStore(), EventBus(), []
    for i in range(count):
        record_id, window_id = RecordId(f"{i:012x}"), WindowId(f"@{i}")
        store.add(WindowRecord(record_id=record_id, window_id=window_id, provider="claude",
                               mode="normal", cwd="/tmp", created_at="t"))  # fmt: skip
        tmux.screens[f"@{i}"] = IDLE
    long_ago = int(time.time()) - 60
    tmux.panes = tuple(pane(f"@{i}", f"{i:012x}", activity=long_ago) for i in range(count))

    async def collect(event: StatusEvent) -> None:
        events.append(event)

    bus.on_status(collect)
    watch = ScreenWatch(backend=tmux, store=store, router=ChannelRouter(), bus=bus)
    return tmux, store, watch, events


async def test_idle_windows_are_captured_once_and_then_left_alone() -> None:
    tmux, _, watch, events = _world(20)

    await watch.update(tmux.panes)
    first = tmux.calls["capture"]
    for _ in range(5):
        await watch.update(tmux.panes)

    assert first == 20
    assert tmux.calls["capture"] == 20
    assert {e.status for e in events} == {AgentStatus.IDLE}
    assert len(events) == 20


async def test_a_flagged_or_active_window_is_captured_and_its_change_reported() -> None:
    tmux, _, watch, events = _world(3)
    await watch.update(tmux.panes)

    watch.flag(RecordId(f"{1:012x}"))
    tmux.screens["@1"] = BUSY
    await watch.update(tmux.panes)

    assert tmux.calls["capture"] == 4
    assert (events[-1].window_id, events[-1].status) == ("@1", AgentStatus.WORKING)
    tmux.panes = (tmux.panes[0], tmux.panes[1], pane("@2", f"{2:012x}", activity=int(time.time())))
    await watch.update(tmux.panes)
    assert tmux.calls["capture"] == 5
