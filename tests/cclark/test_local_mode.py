"""`cclark --local` as a newcomer and as an attacker on the same machine meet it.

The newcomer: with no Feishu app configured, cclark starts local mode and prints where to go.
The attacker (another account, another web page, a rogue bot): every way in without the
printed link's token, from another Host or Origin, or to the emulator's test controls is
refused, and nothing happens in tmux; the same steps from the person's own page open a shell.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot_process import free_port, stop_process
from support import World, cookie_jar, wait_until

pytestmark = pytest.mark.e2e

PRINTED_URL = re.compile(r"Chat:\s+(http://127\.0\.0\.1:(\d+)/chat\?token=(\S+))")
DRIVE = ("#new", "ok", "shell")  # what an attacker would send: it opens a shell in tmux
EXCEED_CONN_LIMIT = 1000040350
BAD_CREDENTIALS = 1000040351


def write_config(world: World, **extra: Any) -> int:
    """config.yaml with no Feishu app, a private tmux server and a real bash; the health port."""
    health = free_port()
    config = {"gateway": {"tmux_session": "uicc-test", "tmux_socket": world.socket, **extra},
              "providers": {"shell": {"command": "bash --norc --noprofile", "env": {"PS1": "$ "}}},
              "health": {"host": "127.0.0.1", "port": health}}  # fmt: skip
    world.config_dir.mkdir(parents=True, exist_ok=True)
    (world.config_dir / "config.yaml").write_text(json.dumps(config))
    return health


def start_cclark(out: Path, *args: str) -> subprocess.Popen[bytes]:
    """``cclark --port 0 …`` with stdout to out."""
    with out.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "cclark", "--port", "0", *args],
                                stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip


async def printed_url(out: Path) -> re.Match[str]:
    found: re.Match[str] = await wait_until(
        lambda: PRINTED_URL.search(out.read_text()), within=60, what="the chat URL"
    )
    return found


def tmux_windows(world: World) -> list[str]:
    listed = world.tmux("list-windows", "-t", "uicc-test", "-F", "#{window_name}", check=False)
    return listed.stdout.split()


async def test_no_app_configured_starts_local_mode_with_its_chat_page_and_health(
    world: World,
) -> None:
    health = write_config(world)
    out = world.root / "cclark.out"
    process = start_cclark(out)
    try:
        printed = await printed_url(out)
        async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as session:
            async with session.get(printed[1]) as page:
                html = await page.text()
            base = printed[1].split("/chat")[0]
            async with session.get(f"{base}/chat/config") as answer:
                settings = await answer.json()
            status = await wait_until(lambda: _health(session, health), what="healthy")
    finally:
        stop_process(process)
        world.tmux("kill-server", check=False)

    text = out.read_text()
    assert "local mode" in text
    assert f"#new opens agents under {world.home.resolve()}" in text  # no roots configured
    assert "<title>" in html
    users = [(u["name"], u["allowed"]) for u in settings["users"]]
    assert users == [("You", True), ("A stranger", False)]
    assert status == 200


async def test_nobody_without_the_token_or_from_elsewhere_gets_in_and_nothing_runs(
    world: World,
) -> None:
    write_config(world, workspace_roots=[str(world.workspace)])
    out = world.root / "cclark.out"
    process = start_cclark(out, "--local")
    try:
        printed = await printed_url(out)
        url, port = printed[1], printed[2]
        base = f"http://127.0.0.1:{port}"
        secret_file = world.config_dir / "local-app.json"
        secret = json.loads(secret_file.read_text())["app_secret"]
        async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as person:
            async with person.get(url) as entered:
                assert entered.status == 200
            before = tmux_windows(world)

            refused = await _attacks(base, person, secret)

            feed = await _feed(person, base)
            after_attacks = tmux_windows(world)
            # The same steps from the person's own page do open a shell: the attacks could
            # have had an effect, had they been let in.
            for text in DRIVE:
                status, _ = await _post(person, base, text)
                assert status == 200
            opened = await wait_until(lambda: len(tmux_windows(world)) > len(before) or None,
                                      within=60, what="the person's shell")  # fmt: skip
            rogue_bot = await _endpoint(base, secret)  # the bot is connected now
    finally:
        stop_process(process)
        world.tmux("kill-server", check=False)

    assert refused == {
        "no token": 401,
        "a wrong token": 403,
        "the feed without the cookie": 401,
        "a post without the cookie": 401,
        "a post that is not JSON": 415,
        "a cross-origin post": 403,
        "a post without an Origin": 403,
        "the page for a foreign Host": 403,
        "a post for a foreign Host": 403,
        "GET /_emulator": 404,
        "GET /_emulator/apps": 404,
        "POST /_emulator/messages": 404,
        "POST /_emulator/events": 404,
        "the old fixed app secret": BAD_CREDENTIALS,
    }
    assert feed == []  # no message reached the chats, so the bot got none
    assert after_attacks == before  # and nothing was opened in tmux
    assert opened
    assert rogue_bot == EXCEED_CONN_LIMIT  # a second client for the local app: refused
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert secret not in out.read_text()
    inbound = [line["detail"] for line in _audit(world) if line["kind"] == "inbound"]
    assert inbound == list(DRIVE)  # the bot heard the person only


async def _attacks(base: str, person: aiohttp.ClientSession, secret: str) -> dict[str, int]:
    """Every way in that must be refused; what each got (an HTTP status, or a Feishu code)."""
    port = base.rsplit(":", 1)[1]
    got: dict[str, int] = {}
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as stranger:
        got["no token"] = await _status(stranger.get(f"{base}/chat"))
        got["a wrong token"] = await _status(stranger.get(f"{base}/chat?token=guess"))
        got["the feed without the cookie"] = await _status(stranger.get(f"{base}/chat/updates"))
        got["a post without the cookie"] = (await _post(stranger, base, "#new"))[0]
        for path in ("/_emulator", "/_emulator/apps"):
            got[f"GET {path}"] = await _status(stranger.get(f"{base}{path}"))
        body = {"text": "#new", "chat_id": "oc_local_you", "sender_open_id": "ou_local_you"}
        for path in ("/_emulator/messages", "/_emulator/events"):
            got[f"POST {path}"] = await _status(stranger.post(f"{base}{path}", json=body))
    for text in DRIVE:  # with the person's cookie, as a careless browser would send it
        got["a post that is not JSON"] = (await _post(person, base, text, kind="text/plain"))[0]
        got["a cross-origin post"] = (await _post(person, base, text,
                                                  origin="http://evil.example"))[0]  # fmt: skip
        got["a post without an Origin"] = (await _post(person, base, text, origin=None))[0]
        got["a post for a foreign Host"] = (await _post(person, base, text,
                                                        host="evil.example"))[0]  # fmt: skip
    foreign = {"Host": f"evil.example:{port}"}
    got["the page for a foreign Host"] = await _status(person.get(f"{base}/chat", headers=foreign))
    got["the old fixed app secret"] = await _endpoint(base, "local-mode-secret")
    assert secret != "local-mode-secret"
    return got


async def _status(request: Any) -> int:
    async with request as response:
        status: int = response.status
        return status


async def _post(
    session: aiohttp.ClientSession, base: str, text: str, *, kind: str = "application/json",
    origin: str | None = "", host: str | None = None,
) -> tuple[int, Any]:  # fmt: skip
    """POST /chat/messages as You, in your direct chat; origin "" means the page's own."""
    headers = {"Content-Type": kind}
    if origin is not None:
        headers["Origin"] = origin or base
    if host is not None:
        headers["Host"] = host
    body = json.dumps({"text": text, "chat": "p2p", "sender_open_id": "ou_local_you"})
    async with session.post(f"{base}/chat/messages", data=body, headers=headers) as response:
        return response.status, await response.text()


async def _feed(person: aiohttp.ClientSession, base: str) -> list[Any]:
    async with person.get(f"{base}/chat/updates?after=0&wait=0") as response:
        assert response.status == 200
        messages: list[Any] = (await response.json())["messages"]
        return messages


async def _endpoint(base: str, secret: str) -> int:
    """What the long connection's endpoint answers a client with these credentials (the SDK
    asks it first, and cannot connect without the URL it hands out)."""
    body = {"AppID": "cli_local_cclark", "AppSecret": secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/callback/ws/endpoint", json=body) as response,
    ):
        code: int = (await response.json())["code"]
        return code


def _audit(world: World) -> list[dict[str, Any]]:
    path = world.config_dir / "audit.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


async def _health(session: aiohttp.ClientSession, port: int) -> int | None:
    async with session.get(f"http://127.0.0.1:{port}/health") as response:
        return response.status if response.status == 200 else None
