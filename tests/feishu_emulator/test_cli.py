"""``python -m feishu_emulator``: serves on loopback, prints its URL, refuses other hosts."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import aiohttp

COMMAND = [sys.executable, "-m", "feishu_emulator"]


def test_a_non_loopback_host_is_refused_without_allow_remote() -> None:
    result = subprocess.run(
        [*COMMAND, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 2
    assert "not a loopback address" in result.stderr


async def test_the_command_serves_prints_its_url_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "--port", "0", "--app-id", "cli_cmd", "--app-secret", "s3",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            first = (await process.stdout.readline()).decode()
        found = re.search(r"Feishu emulator at (http://127\.0\.0\.1:\d+)", first)
        assert found, first
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{found[1]}/_emulator/apps") as response,
        ):
            apps = await response.json()
        assert [a["app_id"] for a in apps] == ["cli_cmd"]
    finally:
        process.terminate()
        async with asyncio.timeout(30):
            code = await process.wait()

    assert code == 0
