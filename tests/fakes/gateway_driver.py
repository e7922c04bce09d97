"""A gateway in its own process, for tests that kill it: ``python gateway_driver.py``.

Starts UnifiedICC from the environment's config folder and records every event it emits in
state.db's ``driver_events`` table, staged in the event's journal unit as a frontend does, so
each record commits with the watermark after it. Runs until it is killed. Prints ``ready``
once started.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from unified_icc import AgentMessageEvent, Journal, StatusEvent, UnifiedICC, WindowEvent

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS driver_events "
    "(n INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, event TEXT NOT NULL);"
)


def _recorder(gateway: UnifiedICC, kind: str) -> Any:
    async def record(event: AgentMessageEvent | StatusEvent | WindowEvent) -> None:
        gateway.journal.stage("INSERT INTO driver_events (kind, event) VALUES (?, ?)",
                              (kind, json.dumps(dataclasses.asdict(event))))  # fmt: skip

    return record


def _define(journal: Journal) -> None:
    journal.define(SCHEMA)


async def main() -> None:
    gateway = UnifiedICC()
    gateway.on_open(_define)
    gateway.on_message(_recorder(gateway, "message"))
    gateway.on_status(_recorder(gateway, "status"))
    gateway.on_window_change(_recorder(gateway, "window"))
    async with gateway:
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
