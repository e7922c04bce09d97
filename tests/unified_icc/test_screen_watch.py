"""ScreenWatch captures only what changed, so idle windows cost nothing but the one listing."""

from __future__ import annotations

import time

import pytest

from fakes.fake_tmux import FakeTmux, pane
from unified_icc import AgentStatus, StatusEvent, WindowId, screen_watch
from unified_icc.channel_router import ChannelRouter
from unified_icc.event_bus import EventBus
from unified_icc.ids import RecordId
from unified_icc.screen_watch import ScreenWatch
from unified_icc.window_store import WindowRecord, WindowStore

IDLE = "\u2500" * 40 + "\n\u276f\u00a0\n" + "\u2500" * 40 + "\n  ? for shortcuts"
BUSY = "\u2500" * 40 + "\n\u276f\u00a0\n" + "\u2500" * 40 + "\n  esc to interrupt"


class Transcripts:
    """What the transcripts say, as a test sets it (TranscriptFeed's answers)."""

    def __init__(self) -> None:
        self.owing = False
        self.unread = 0  # prompts taken and not yet read
        self.written_on_settle = 0  # prompts the next settle reads

    def owes_reply(self, record_id: RecordId) -> bool:
        return self.owing

    def prompt_unread(self, record_id: RecordId) -> bool:
        return self.unread > 0

    def stop_waiting_for_prompts(self, record_id: RecordId) -> None:
        self.unread = 0

    async def settle(self, record: WindowRecord) -> None:
        self.unread -= self.written_on_settle
        self.written_on_settle = 0


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


async def test_every_status_is_reported_only_after_the_transcript_was_settled() -> None:
    tmux, store, bus, order = FakeTmux(), WindowStore(), EventBus(), []
    record = WindowRecord(record_id=RecordId("0" * 12), window_id=WindowId("@0"),
                          provider="claude", mode="normal", cwd="/tmp", created_at="t")  # fmt: skip
    store.add(record)
    tmux.screens["@0"] = BUSY
    tmux.panes = (pane("@0", "0" * 12, activity=int(time.time())),)

    async def settle(record: WindowRecord) -> None:
        order.append(f"settled {record.window_id}")

    async def collect(event: StatusEvent) -> None:
        order.append(f"{event.status.value} {event.window_id}")

    bus.on_status(collect)
    watch = ScreenWatch(backend=tmux, store=store, router=ChannelRouter(), bus=bus, settle=settle)
    await watch.update(tmux.panes)
    tmux.screens["@0"] = IDLE
    watch.flag(RecordId("0" * 12))
    await watch.update(tmux.panes)

    assert order == ["settled @0", "working @0", "settled @0", "idle @0"]


async def test_a_turn_too_quick_to_be_seen_working_is_still_reported_idle_at_its_end() -> None:
    tmux, _, watch, events = _world(1)
    await watch.update(tmux.panes)

    watch.flag(RecordId(f"{0:012x}"), turn_ended=True)
    await watch.update(tmux.panes)
    watch.flag(RecordId(f"{0:012x}"))
    await watch.update(tmux.panes)

    assert [(e.status, e.turn_ended) for e in events] == [
        (AgentStatus.IDLE, True),  # no Stop hook wiring in this watch: any idle ends a turn
        (AgentStatus.IDLE, True),
    ]


async def _working_claude_with_a_stop_hook(
    transcripts: Transcripts | None = None,
) -> tuple[FakeTmux, WindowRecord, ScreenWatch, list[tuple[AgentStatus, bool]]]:
    """A Claude window seen working by a watch that knows Claude's Stop hook; the events
    reported, as (status, turn_ended)."""
    tmux, store, bus = FakeTmux(), WindowStore(), EventBus()
    events: list[tuple[AgentStatus, bool]] = []
    record = WindowRecord(record_id=RecordId("0" * 12), window_id=WindowId("@0"),
                          provider="claude", mode="normal", cwd="/tmp", created_at="t")  # fmt: skip
    store.add(record)
    tmux.screens["@0"] = BUSY
    tmux.panes = (pane("@0", "0" * 12, activity=int(time.time())),)

    async def collect(event: StatusEvent) -> None:
        events.append((event.status, event.turn_ended))

    bus.on_status(collect)
    transcripts = transcripts or Transcripts()
    watch = ScreenWatch(backend=tmux, store=store, router=ChannelRouter(), bus=bus,
                        stop_hooked=frozenset({"claude"}), transcripts=transcripts,
                        settle=transcripts.settle)  # fmt: skip
    await watch.update(tmux.panes)
    return tmux, record, watch, events


async def test_an_announced_end_not_yet_seen_is_reported_before_new_input_and_only_once() -> None:
    tmux, record, watch, events = await _working_claude_with_a_stop_hook()
    watch.flag(record.record_id, turn_ended=True)  # the Stop hook came; no idle look yet
    await watch.close_announced_turn(record)  # the person types the next message
    await watch.close_announced_turn(record)
    for screen in (BUSY, IDLE):  # the next turn: an idle look ends nothing by itself
        tmux.screens["@0"] = screen
        watch.flag(record.record_id)
        await watch.update(tmux.panes)

    assert events == [(AgentStatus.WORKING, False), (AgentStatus.IDLE, True),
                      (AgentStatus.WORKING, False), (AgentStatus.IDLE, False)]  # fmt: skip


async def test_a_stop_hook_before_its_prompt_is_written_ends_the_turn_once_it_is() -> None:
    # Claude, busy, can run its Stop hook before it writes the prompt and the reply.
    transcripts = Transcripts()
    tmux, record, watch, events = await _working_claude_with_a_stop_hook(transcripts)
    transcripts.unread = 1  # its UserPromptSubmit hook came
    tmux.screens["@0"] = IDLE
    watch.flag(record.record_id, turn_ended=True)  # its Stop hook came
    await watch.update(tmux.panes)
    await watch.update(tmux.panes)  # still not written: the end still waits
    transcripts.written_on_settle = 1
    await watch.update(tmux.panes)  # no hook flags it again: the watch keeps looking

    assert events == [(AgentStatus.WORKING, False), (AgentStatus.IDLE, False),
                      (AgentStatus.IDLE, True)]  # fmt: skip


async def test_a_prompt_never_written_holds_the_turn_s_end_only_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(screen_watch, "_PROMPT_WAIT", 0.0)
    transcripts = Transcripts()
    tmux, record, watch, events = await _working_claude_with_a_stop_hook(transcripts)
    transcripts.unread = 1
    tmux.screens["@0"] = IDLE
    watch.flag(record.record_id, turn_ended=True)
    await watch.update(tmux.panes)

    assert events == [(AgentStatus.WORKING, False), (AgentStatus.IDLE, True)]
    assert transcripts.unread == 0  # the next turn does not wait for it


async def test_with_a_stop_hook_only_the_idle_after_it_ends_the_turn() -> None:
    tmux, record, watch, events = await _working_claude_with_a_stop_hook()
    for screen, stop in ((IDLE, False), (BUSY, False), (IDLE, True)):
        tmux.screens["@0"] = screen
        watch.flag(record.record_id, turn_ended=stop)
        await watch.update(tmux.panes)

    assert events == [(AgentStatus.WORKING, False), (AgentStatus.IDLE, False),
                      (AgentStatus.WORKING, False), (AgentStatus.IDLE, True)]  # fmt: skip


async def test_without_a_stop_hook_an_idle_look_owing_a_reply_ends_no_turn() -> None:
    # Gemini may look idle between writing a tool call and running it, or between the tool's
    # result and its model's answer (Claude's screens here, in a watch that knows no Stop hook).
    tmux, store, bus = FakeTmux(), WindowStore(), EventBus()
    record = WindowRecord(record_id=RecordId("0" * 12), window_id=WindowId("@0"),
                          provider="claude", mode="yolo", cwd="/tmp", created_at="t")  # fmt: skip
    store.add(record)
    tmux.screens["@0"] = BUSY
    tmux.panes = (pane("@0", "0" * 12, activity=int(time.time())),)
    events: list[tuple[AgentStatus, bool]] = []
    transcripts = Transcripts()
    transcripts.owing = True

    async def collect(event: StatusEvent) -> None:
        events.append((event.status, event.turn_ended))

    bus.on_status(collect)
    watch = ScreenWatch(backend=tmux, store=store, router=ChannelRouter(), bus=bus,
                        transcripts=transcripts)  # fmt: skip
    await watch.update(tmux.panes)
    tmux.screens["@0"] = IDLE
    watch.flag(record.record_id, turn_ended=True)  # the call or its result was written
    await watch.update(tmux.panes)
    transcripts.owing = False
    watch.flag(record.record_id, turn_ended=True)  # the model's answer was written
    await watch.update(tmux.panes)

    assert events == [(AgentStatus.WORKING, False), (AgentStatus.IDLE, False),
                      (AgentStatus.IDLE, True)]  # fmt: skip
