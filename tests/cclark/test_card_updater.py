"""CardUpdater: latest wins, one update in flight, a minimum interval, unchanged cards skipped."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from cclark.cards import CardUpdater


class FakeClock:
    """A clock whose sleep advances time at once (and lets other tasks run)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Recorder:
    """The update callable: records (message id, card number, time); can be held or fail."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[str, int, float]] = []
        self.gate: asyncio.Event | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.failures = 0

    async def __call__(self, message_id: str, card: Mapping[str, Any]) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.failures:
                self.failures -= 1
                raise RuntimeError("patch refused")
            self.sent.append((message_id, card["n"], self.clock.now))
        finally:
            self.in_flight -= 1


def card(n: int) -> dict[str, Any]:
    return {"schema": "2.0", "n": n, "body": {"elements": []}}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder(clock: FakeClock) -> Recorder:
    return Recorder(clock)


async def test_card_updater_coalesces_quick_updates_to_first_and_last(
    clock: FakeClock, recorder: Recorder
) -> None:
    async with CardUpdater(recorder, clock=clock) as updater:
        updater.submit("m1", card(1))
        await settle()
        for n in range(2, 6):
            updater.submit("m1", card(n))
        await updater.flush()

    assert recorder.sent == [("m1", 1, 0.0), ("m1", 5, 1.0)]


async def test_card_updater_keeps_one_update_in_flight_per_card(
    clock: FakeClock, recorder: Recorder
) -> None:
    recorder.gate = asyncio.Event()
    updater = CardUpdater(recorder, clock=clock, interval=0)
    updater.submit("m1", card(1))
    await settle()
    updater.submit("m1", card(2))
    updater.submit("m1", card(3))
    await settle()

    assert updater.busy
    assert recorder.in_flight == 1
    assert recorder.sent == []
    recorder.gate.set()
    await updater.flush()
    assert [n for _, n, _ in recorder.sent] == [1, 3]
    assert recorder.max_in_flight == 1


async def test_card_updater_respects_the_interval_with_a_fake_clock(
    clock: FakeClock, recorder: Recorder
) -> None:
    updater = CardUpdater(recorder, clock=clock)
    updater.submit("m1", card(1))
    await updater.flush()
    clock.now = 0.3
    updater.submit("m1", card(2))
    await updater.flush()
    clock.now = 5.0
    updater.submit("m1", card(3))
    await updater.flush()
    updater.interval = 2.5
    updater.submit("m1", card(4))
    await updater.flush()

    assert [n for _, n, _ in recorder.sent] == [1, 2, 3, 4]
    assert [t for _, _, t in recorder.sent] == pytest.approx([0.0, 1.0, 5.0, 7.5])
    assert clock.sleeps == pytest.approx([0.7, 2.5])


async def test_card_updater_paces_each_card_on_its_own(
    clock: FakeClock, recorder: Recorder
) -> None:
    updater = CardUpdater(recorder, clock=clock)
    updater.submit("m1", card(1))
    updater.submit("m2", card(2))
    await updater.flush()

    assert sorted(recorder.sent) == [("m1", 1, 0.0), ("m2", 2, 0.0)]


async def test_card_updater_skips_a_card_equal_to_the_last_sent(
    clock: FakeClock, recorder: Recorder
) -> None:
    updater = CardUpdater(recorder, clock=clock)
    updater.submit("m1", card(1))
    await updater.flush()
    updater.submit("m1", card(1))  # an equal copy, idle card
    await updater.flush()
    updater.submit("m1", card(2))
    updater.submit("m1", card(1))  # replaces 2 before it goes out: back to what was sent
    await updater.flush()

    assert [n for _, n, _ in recorder.sent] == [1]


async def test_card_updater_flush_waits_for_every_card(
    clock: FakeClock, recorder: Recorder
) -> None:
    updater = CardUpdater(recorder, clock=clock)
    for n in range(1, 4):
        updater.submit("a", card(n))
        updater.submit("b", card(10 + n))
        await settle()
    await updater.flush()

    last = {message_id: n for message_id, n, _ in recorder.sent}
    assert last == {"a": 3, "b": 13}
    assert not updater.busy


async def test_card_updater_logs_a_failed_update_and_sends_the_card_again_later(
    clock: FakeClock, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.failures = 1
    updater = CardUpdater(recorder, clock=clock)
    updater.submit("m1", card(1))
    await updater.flush()
    updater.submit("m1", card(1))
    await updater.flush()

    assert "card update failed message_id=m1" in caplog.text
    assert [n for _, n, _ in recorder.sent] == [1]


async def test_card_updater_serialises_the_card_when_submitted(
    clock: FakeClock, recorder: Recorder
) -> None:
    updater = CardUpdater(recorder, clock=clock)
    mutable = card(1)
    updater.submit("m1", mutable)
    mutable["n"] = 99
    await updater.flush()

    assert [n for _, n, _ in recorder.sent] == [1]


async def test_card_updater_stop_cancels_and_refuses_new_updates(
    clock: FakeClock, recorder: Recorder
) -> None:
    recorder.gate = asyncio.Event()
    updater = CardUpdater(recorder, clock=clock)
    updater.submit("m1", card(1))
    await settle()
    await updater.stop()
    await updater.stop()

    assert recorder.in_flight == 0
    with pytest.raises(RuntimeError):
        updater.submit("m1", card(2))
    await updater.flush()  # nothing left to wait for


def test_card_updater_rejects_a_negative_interval(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="interval"):
        CardUpdater(recorder, interval=-1)
