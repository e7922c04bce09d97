"""Who may use the chat page, tried in a real Chromium: the printed link lets a person in, the
token leaves the address bar, and neither a page without the token nor another web page in the
same browser can post as the person."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect
from tests.browser.conftest import ALICE, VIEWPORT

from feishu_emulator import Emulator
from support import wait_until

pytestmark = pytest.mark.browser

# Another web site the person has open: it tries every way a page can send a request
# elsewhere without reading the answer (no-cors fetch, a form post, a CORS fetch of JSON).
EVIL_PAGE = """<!doctype html><html><body>
<form id="form" method="POST" action="{target}" enctype="text/plain" target="sink">
  <input name='{{"text":"form-pwned","chat":"p2p","sender_open_id":"{user}","x":"' value='"}}'>
</form>
<iframe name="sink"></iframe>
<script>
const body = JSON.stringify({{text: "fetch-pwned", chat: "p2p", sender_open_id: "{user}"}});
const tries = [
  fetch("{target}", {{method: "POST", mode: "no-cors", credentials: "include", body,
                      headers: {{"Content-Type": "text/plain"}}}}),
  fetch("{target}", {{method: "POST", mode: "cors", credentials: "include", body,
                      headers: {{"Content-Type": "application/json"}}}}),
];
Promise.allSettled(tries).then((results) => {{
  document.body.dataset.tried = results.map((r) => r.status).join(",");
  document.getElementById("form").submit();
}});
</script></body></html>"""


@pytest.fixture
async def evil_site(emu: Emulator) -> AsyncIterator[str]:
    """A web page on another origin of this machine, aimed at the chat page's post route."""
    html = EVIL_PAGE.format(target=f"{emu.url}/chat/messages", user=ALICE.open_id)

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    application = web.Application()
    application.add_routes([web.get("/", serve)])
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()


async def test_the_token_leaves_the_address_bar_and_the_cookie_lets_the_page_back_in(
    page: Page, emu: Emulator
) -> None:
    assert "token" not in page.url

    await page.reload()

    await expect(page.locator("body")).to_have_attribute("data-feed", "live")
    assert "token" not in page.url


async def test_a_browser_without_the_token_is_refused(browser: Browser, emu: Emulator) -> None:
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        stranger = await context.new_page()
        response = await stranger.goto(emu.page_url.split("?")[0])
        wrong = await stranger.goto(emu.page_url.split("?")[0] + "?token=guess")

        assert response is not None
        assert response.status == 401
        assert wrong is not None
        assert wrong.status == 403
        await expect(stranger.locator("body")).to_contain_text("each start prints a new link")
    finally:
        await context.close()


async def test_another_web_page_in_the_same_browser_cannot_post_as_the_person(
    page: Page, emu: Emulator, evil_site: str
) -> None:
    evil = await page.context.new_page()  # same browser, so the page's cookie is there

    await evil.goto(evil_site)
    await expect(evil.locator("body")).to_have_attribute("data-tried", "fulfilled,rejected")
    await evil.wait_for_load_state("networkidle")
    # What the person sends from the page itself still goes through.
    await page.fill("#composer", "from the page")
    await page.press("#composer", "Enter")
    sent = await wait_until(lambda: emu.messages_in(ALICE.p2p_chat_id), what="the real post")

    texts = [json.loads(message.content)["text"] for message in sent]
    assert texts == ["from the page"]
