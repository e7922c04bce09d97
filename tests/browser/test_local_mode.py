"""Local mode as a newcomer meets it: `cclark --local`, the printed URL, the chat in Chromium.

The bot is the real ``python -m cclark`` process (real lark-oapi SDK, real gateway on a private
tmux server); the shell is a real bash and Claude the pinned CLI against the fake model API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from tests.browser.conftest import ARTIFACTS, VIEWPORT

from bot_process import free_port, stop_process
from fakes.agent_homes import INHERITED_ENV_TO_DROP, agent_cli, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs
from support import World, wait_until

pytestmark = pytest.mark.browser

REPLY_TIMEOUT = 30_000  # ms: a reply goes through the SDK, the gateway and tmux
URL = re.compile(r"Chat:\s+(http://127\.0\.0\.1:\d+/chat\?token=\S+)")


class LocalCclark:
    """``cclark --local --port 0`` as a process, and the URL it printed."""

    def __init__(self, world: World, providers: dict[str, object]) -> None:
        config = {
            "gateway": {"tmux_session": "uicc-test", "tmux_socket": world.socket,
                        "workspace_roots": [str(world.workspace)], "poll_interval": 0.2},
            "providers": providers,
            "health": {"host": "127.0.0.1", "port": free_port()},
        }  # fmt: skip
        world.config_dir.mkdir(parents=True, exist_ok=True)
        (world.config_dir / "config.yaml").write_text(json.dumps(config))
        self.out = world.root / "cclark.out"
        self.log = world.root / "cclark.log"
        with self.out.open("wb") as out, self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cclark", "--local", "--port", "0"],
                stdout=out, stderr=log, env=dict(os.environ),
            )  # fmt: skip

    async def url(self) -> str:
        def printed() -> str | None:
            found = URL.search(self.out.read_text())
            return found[1] if found else None

        url: str = await wait_until(printed, within=60, what="the chat URL on stdout")
        return url

    def stop(self) -> None:
        stop_process(self.process)


def bash() -> dict[str, object]:
    return {"command": "bash --norc --noprofile", "env": {"PS1": "$ "}}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def chat(
    browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Page, list[LocalCclark]]]:
    """A browser page (opened on the URL later) and the cclark processes to stop."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    started: list[LocalCclark] = []
    try:
        yield page, started
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
        await context.close()
        for process in started:
            process.stop()


@pytest.fixture
def tmux_cleanup(world: World) -> Iterator[None]:
    yield
    world.tmux("kill-server", check=False)


async def open_chat(page: Page, cclark: LocalCclark) -> None:
    await page.goto(await cclark.url())
    await page.wait_for_selector("body[data-feed='live']")


async def say(page: Page, text: str) -> None:
    await page.fill("#composer", text)
    await page.press("#composer", "Enter")
    await expect(page.locator("#composer")).to_have_value("")


def bot_says(page: Page, text: str) -> Locator:
    return page.locator(".msg.from-bot", has_text=text)


async def walk(page: Page, *steps: tuple[str, str]) -> None:
    """Send each text and wait for the bot's answer containing the expected words."""
    for text, answer in steps:
        await say(page, text)
        await expect(bot_says(page, answer).last).to_be_visible(timeout=REPLY_TIMEOUT)


async def tap(page: Page, *steps: tuple[str, str]) -> None:
    """For each step, wait for the bot's newest card showing the text, and tap its button."""
    for shown, label in steps:
        card = page.locator(".msg.from-bot .card", has_text=shown).last
        button = card.locator("button.card-button", has_text=label)
        await expect(button).to_be_enabled(timeout=REPLY_TIMEOUT)
        await button.click()


async def test_a_newcomer_sends_help_and_reads_the_answer(
    chat: tuple[Page, list[LocalCclark]], world: World, tmux_cleanup: None
) -> None:
    page, started = chat
    started.append(cclark := LocalCclark(world, {"shell": bash()}))
    await open_chat(page, cclark)

    await say(page, "#help")

    await expect(bot_says(page, "#resume — start")).to_have_count(1, timeout=REPLY_TIMEOUT)
    await expect(page.locator("#current-user-access")).to_have_text("on the allowlist")


async def test_a_topic_gets_its_own_answers_and_a_stranger_gets_none(
    chat: tuple[Page, list[LocalCclark]], world: World, tmux_cleanup: None
) -> None:
    page, started = chat
    started.append(cclark := LocalCclark(world, {"shell": bash()}))
    await open_chat(page, cclark)

    await page.click("#chat-switch button[data-view='group']")
    await say(page, "#status")
    topic = page.locator(".topic").nth(0)
    await expect(topic.locator(".msg.from-bot")).to_contain_text("No agent session",
                                                                 timeout=REPLY_TIMEOUT)  # fmt: skip
    await page.click("#user-switch button[data-open-id='ou_local_stranger']")
    await page.click("#chat-switch button[data-view='p2p']")
    await expect(page.locator("#current-user-access")).to_have_text("not on the allowlist")
    await say(page, "#help")
    await page.click("#user-switch button[data-open-id='ou_local_you']")
    await say(page, "#help")  # answered: so the stranger's message was seen, and ignored
    await expect(bot_says(page, "#resume — start")).to_have_count(1, timeout=REPLY_TIMEOUT)
    await page.click("#user-switch button[data-open-id='ou_local_stranger']")

    await expect(page.locator(".msg.from-user")).to_have_count(1)
    await expect(page.locator(".msg.from-bot")).to_have_count(0)
    refused = await wait_until(
        lambda: [line for line in (world.config_dir / "audit.jsonl").read_text().splitlines()
                 if '"refusal"' in line], what="the audited refusal")  # fmt: skip
    assert "ou_local_stranger" in refused[0]


async def test_the_wizard_done_by_taps_opens_a_shell_whose_output_comes_back_as_a_card(
    chat: tuple[Page, list[LocalCclark]], world: World, tmux_cleanup: None
) -> None:
    page, started = chat
    (world.workspace / "demo").mkdir()
    started.append(cclark := LocalCclark(world, {"shell": bash()}))
    await open_chat(page, cclark)

    await say(page, "#new")
    demo = str((world.workspace / "demo").resolve())
    await tap(page, ("Folder:", "📁 demo"), (f"Folder: {demo}", "✅ Use this folder"),
              ("Which agent", "shell"))  # fmt: skip
    await expect(bot_says(page, "Session started: shell")).to_be_visible(timeout=REPLY_TIMEOUT)
    await say(page, "echo hello-from-$((40 + 2))")

    card = page.locator(".msg.from-bot .card", has_text="hello-from-42")
    await expect(card).to_be_visible(timeout=REPLY_TIMEOUT)
    await expect(card.locator(".card-title")).to_have_text("shell · demo")
    await expect(card.locator(".card-header")).to_have_attribute(
        "data-template", "green", timeout=REPLY_TIMEOUT
    )
    await expect(bot_says(page, "✅ shell · demo: hello-from-42")).to_be_visible()
    typed = page.locator(".msg.from-user", has_text="echo hello-from")
    await expect(typed.locator(".reaction[data-emoji-type='OK']")).to_have_text("👌")


async def test_a_claude_session_started_by_taps_has_its_permission_answered_by_a_tap(
    chat: tuple[Page, list[LocalCclark]], world: World, tmux_cleanup: None, clean_env: None
) -> None:
    page, started = chat
    demo = world.workspace / "demo"
    demo.mkdir()
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[demo], apis=apis)
        claude = {"command": str(agent_cli("claude")), "env": env["claude"]}
        started.append(cclark := LocalCclark(world, {"shell": bash(), "claude": claude}))
        try:
            await open_chat(page, cclark)
            await say(page, "#new")
            await tap(page, ("Folder:", "📁 demo"), (f"Folder: {demo.resolve()}",
                      "✅ Use this folder"), ("Which agent", "claude"),
                      ("Mode for claude", "standard"))  # fmt: skip
            await expect(bot_says(page, "Session started: claude")).to_be_visible(
                timeout=REPLY_TIMEOUT
            )

            await say(page, "BASH: touch from-the-page.txt")
            prompt = page.locator(".msg.from-bot .card", has_text="Permission needed")
            await expect(prompt.locator(".card-header")).to_have_attribute(
                "data-template", "orange", timeout=60_000
            )
            await expect(prompt).to_contain_text("3. No")
            await prompt.locator("button.card-button", has_text="1. Yes").click()

            await expect(page.locator("#toast")).to_have_text("Chose 1. Yes")
            await expect(prompt.filter(has_text="You chose 1. Yes")).to_be_visible(
                timeout=REPLY_TIMEOUT
            )
            await expect(prompt.locator("button.card-button")).to_have_count(0)
            await wait_until((demo / "from-the-page.txt").exists, what="the approved file")
        finally:
            started[-1].stop()
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)
