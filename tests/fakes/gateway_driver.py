"""A gateway in its own process, for tests that kill it: ``python gateway_driver.py OUT``.

Starts UnifiedICC from the environment's config folder and appends every event it emits to
OUT as one JSON line, until it is killed. Prints ``ready`` once started.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from unified_icc import AgentMessageEvent, StatusEvent, UnifiedICC, WindowEvent


def _writer(out: Path, kind: str) -> Any:
    async def write(event: AgentMessageEvent | StatusEvent | WindowEvent) -> None:
        with out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, **dataclasses.asdict(event)}) + "\n")

    return write


async def main(out: Path) -> None:
    gateway = UnifiedICC()
    gateway.on_message(_writer(out, "message"))
    gateway.on_status(_writer(out, "status"))
    gateway.on_window_change(_writer(out, "window"))
    async with gateway:
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
