"""The emulator's chat page in a real headless Chromium: what a person sends, and what they see
of the bot's texts, images and cards, updates included, in p2p chats and topic groups."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

import pytest
from playwright.async_api import Locator, Page, expect

from cclark.cards import TurnCard, prompt_card, turn_title
from feishu_emulator import Emulator, Message
from feishu_emulator.models import SenderType
from support import wait_until
from unified_icc import (
    AgentMessage,
    MessageKind,
    MessageRole,
    PromptInfo,
    PromptKind,
    PromptOption,
)

if TYPE_CHECKING:
    from tests.browser.conftest import LarkBot, WsBot

from tests.browser.conftest import ALICE, BOB, GROUP, png

pytestmark = pytest.mark.browser


def user_messages(emu: Emulator, chat_id: str) -> list[Message]:
    return [m for m in emu.messages_in(chat_id) if m.sender_type is SenderType.USER]


def text_of(message: Message) -> str:
    return str(message.body()["text"])


def bubble(page: Page, message_id: str) -> Locator:
    return page.locator(f".msg[data-message-id='{message_id}']")


async def send(page: Page, text: str) -> None:
    await page.fill("#composer", text)
    await page.press("#composer", "Enter")
    await expect(page.locator("#composer")).to_have_value("")


def turn(*messages: AgentMessage) -> TurnCard:
    return TurnCard(title=turn_title("claude", "my-project"), verbose=True).add(messages)


def said(text: str, mid: str) -> AgentMessage:
    return AgentMessage(id=mid, role=MessageRole.ASSISTANT, kind=MessageKind.TEXT, text=text)


def tool(kind: MessageKind, text: str, mid: str) -> AgentMessage:
    return AgentMessage(
        id=mid, role=MessageRole.ASSISTANT, kind=kind, text=text, tool_name="Bash", tool_id="t1"
    )


WORKING = turn(
    said("Here is **the plan**:\n\n```python\nprint('hi')\n```", "a"),
    tool(MessageKind.TOOL_USE, "Bash: ls", "u1"),
    tool(MessageKind.TOOL_RESULT, "README.md\nsrc", "r1"),
)


async def test_the_header_shows_the_app_local_mode_the_user_and_the_chat(page: Page) -> None:
    await expect(page.locator("#app-name")).to_have_text("cclark (work app)")
    await expect(page.locator("#exposure")).to_have_text(
        "local mode — reachable from this machine only"
    )
    await expect(page.locator("#current-user")).to_have_text("Alice")
    await expect(page.locator("#current-user-access")).to_have_text("on the allowlist")
    await expect(page.locator("#current-chat")).to_have_text("Direct chat with cclark")


async def test_typed_text_reaches_the_bot_over_the_long_connection_and_its_reply_shows(
    page: Page, emu: Emulator, ws_bot: WsBot
) -> None:
    await emu.wait_connected(within=30)

    await send(page, "[echo] hello from the browser")

    mine = page.locator(".msg.from-user")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text("[echo] hello from the browser")
    reply = page.locator(".msg.from-bot .msg-body")
    await expect(reply).to_have_text("echo: [echo] hello from the browser", timeout=20_000)
    [stored] = user_messages(emu, ALICE.p2p_chat_id)
    assert (stored.sender_id, text_of(stored)) == (ALICE.open_id, "[echo] hello from the browser")
    [received] = await wait_until(ws_bot.messages, within=10, what="the event at the bot")
    assert (received["chat_id"], received["chat_type"]) == (ALICE.p2p_chat_id, "p2p")
    assert received["sender_open_id"] == ALICE.open_id


async def test_shift_enter_adds_a_line_and_the_send_button_sends(page: Page, emu: Emulator) -> None:
    composer = page.locator("#composer")
    await composer.fill("line one")
    await composer.press("Shift+Enter")
    await composer.type("line two")
    await expect(composer).to_have_value("line one\nline two")

    await page.click("#send")

    await expect(page.locator(".msg.from-user .msg-body")).to_have_text("line one\nline two")
    assert [text_of(m) for m in user_messages(emu, ALICE.p2p_chat_id)] == ["line one\nline two"]


async def test_a_text_from_the_bot_appears_without_reload_with_its_newlines(
    page: Page, bot: LarkBot
) -> None:
    await expect(page.locator(".empty-note")).to_be_visible()

    await bot.send_text(ALICE.p2p_chat_id, "first line\nsecond line")

    body = page.locator(".msg.from-bot .msg-body")
    await expect(body).to_have_text("first line\nsecond line")
    assert await body.evaluate("el => el.getBoundingClientRect().height") > 30  # two lines
    await expect(page.locator(".empty-note")).to_have_count(0)


async def test_a_turn_card_shows_its_header_markdown_code_and_a_collapsed_panel(
    page: Page, bot: LarkBot
) -> None:
    await bot.send_card(ALICE.p2p_chat_id, WORKING.render()[0])

    card = page.locator(".msg.from-bot .card")
    header = card.locator(".card-header")
    await expect(header).to_have_attribute("data-template", "blue")
    await expect(header.locator(".card-title")).to_have_text("claude · my-project")
    await expect(header).to_have_css("background-color", "rgb(225, 234, 255)")  # blue
    await expect(card.locator(".card-markdown strong").first).to_have_text("the plan")
    await expect(card.locator("pre code.language-python")).to_have_text("print('hi')")
    panel = card.locator(".card-panel")
    await expect(panel.locator(".card-panel-title")).to_have_text("⎿ Bash result")
    await expect(panel.locator(".card-panel-body")).to_be_hidden()
    await panel.locator(".card-panel-header").click()
    await expect(panel.locator(".card-panel-body pre")).to_have_text("README.md\nsrc")
    await expect(card.locator(".card-markdown.size-notation")).to_contain_text("working")


async def test_a_patched_card_changes_in_place(page: Page, bot: LarkBot) -> None:
    message_id = await bot.send_card(ALICE.p2p_chat_id, WORKING.render()[0])
    shown = bubble(page, message_id)
    await expect(shown.locator(".card-header")).to_have_attribute("data-template", "blue")
    await shown.evaluate("el => { el.dataset.seen = 'before the patch'; }")

    done = WORKING.add([said("All **done**.", "b")]).finish(ok=True)
    await bot.patch_card(message_id, done.render()[0])

    await expect(shown.locator(".card-header")).to_have_attribute("data-template", "green")
    await expect(shown).to_contain_text("All done.")
    await expect(shown).to_have_attribute("data-seen", "before the patch")  # the same node
    await expect(shown).to_have_attribute("data-updated", "true")
    await expect(page.locator(".msg")).to_have_count(1)


async def test_a_prompt_card_and_an_unknown_element_render(page: Page, bot: LarkBot) -> None:
    prompt = PromptInfo(
        kind=PromptKind.PERMISSION,
        title="Run this command?",
        body="rm -rf build",
        options=(
            PromptOption(number=1, label="Yes", selected=True),
            PromptOption(number=2, label="No"),
        ),
    )
    card = prompt_card(prompt, window_label="claude · my-project")
    card["body"]["elements"].append({"tag": "chart", "chart_spec": {}})

    await bot.send_card(ALICE.p2p_chat_id, card)

    shown = page.locator(".msg.from-bot .card")
    await expect(shown.locator(".card-header")).to_have_attribute("data-template", "orange")
    await expect(shown.locator(".card-subtitle")).to_have_text("claude · my-project")
    await expect(shown).to_contain_text("Reply with a number (1\u20132)")
    await expect(shown.locator(".card-unsupported")).to_have_text("[unsupported element: chart]")


async def test_markup_in_a_card_is_shown_as_text_never_run(page: Page, bot: LarkBot) -> None:
    hostile = '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> &#60;b&#62;'
    card = {
        "schema": "2.0",
        "config": {"update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": "<i>title</i>"}, "template": "red"},
        "body": {"elements": [{"tag": "markdown", "content": hostile}]},
    }

    await bot.send_card(ALICE.p2p_chat_id, card)

    shown = page.locator(".msg.from-bot .card")
    await expect(shown.locator(".card-title")).to_have_text("<i>title</i>")
    await expect(shown.locator(".card-markdown")).to_contain_text(
        '<img src=x onerror="window.pwned=1">'
    )
    await expect(shown.locator(".card-markdown")).to_contain_text("<b>")
    assert await shown.locator("img, script, b, i").count() == 0
    assert await page.evaluate("window.pwned") is None


async def test_an_image_message_shows_the_uploaded_image(page: Page, bot: LarkBot) -> None:
    image_key = await bot.upload_image(png(160, 90))

    await bot.send(ALICE.p2p_chat_id, "image", {"image_key": image_key})

    image = page.locator(".msg.from-bot img.image")
    await expect(image).to_have_attribute("src", f"/chat/images/{image_key}")
    await expect(image).to_be_visible()
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth === 160", arg=await image.element_handle()
    )


async def test_switching_user_shows_that_users_own_p2p_chat(
    page: Page, emu: Emulator, bot: LarkBot
) -> None:
    await send(page, "from Alice")
    await expect(page.locator(".msg.from-user")).to_have_count(1)

    await page.click(f"#user-switch button[data-open-id='{BOB.open_id}']")

    await expect(page.locator("#current-user")).to_have_text("Bob")
    await expect(page.locator("#current-user-access")).to_have_text("not on the allowlist")
    await expect(page.locator("#current-chat")).to_have_text("Direct chat with cclark")
    await expect(page.locator(".msg")).to_have_count(0)
    await send(page, "from Bob")
    await bot.send_text(BOB.p2p_chat_id, "you are not on the allowlist")
    await expect(page.locator(".msg.from-bot")).to_contain_text("you are not on the allowlist")
    await expect(page.locator(".msg.from-user")).to_contain_text("from Bob")
    [bobs] = user_messages(emu, BOB.p2p_chat_id)
    assert (bobs.sender_id, text_of(bobs)) == (BOB.open_id, "from Bob")
    assert [text_of(m) for m in user_messages(emu, ALICE.p2p_chat_id)] == ["from Alice"]


async def test_a_bot_message_to_a_chat_not_shown_marks_it_unread_until_opened(
    page: Page, bot: LarkBot
) -> None:
    bob = page.locator(f"#user-switch button[data-open-id='{BOB.open_id}']")

    await bot.send_text(BOB.p2p_chat_id, "hello Bob")

    await expect(bob).to_have_class(re.compile(r"\bunread\b"))
    await expect(page.locator(".msg")).to_have_count(0)  # Alice's chat is unchanged
    await bob.click()
    await expect(page.locator(".msg.from-bot .msg-body")).to_have_text("hello Bob")
    await expect(bob).not_to_have_class(re.compile(r"\bunread\b"))


async def test_group_topics_start_reply_and_show_the_bots_replies_in_their_topic(
    page: Page, emu: Emulator, bot: LarkBot
) -> None:
    await page.click("#chat-switch button[data-view='group']")
    await expect(page.locator("#current-chat")).to_have_text("Team topics (group, topics)")

    await send(page, "first topic")
    [first] = await wait_until(lambda: user_messages(emu, GROUP), what="the first topic")
    assert first.thread_id is not None
    assert [m.name for m in first.mentions] == ["cclark"]  # the page @mentions the bot
    await bot.reply_text(first.message_id, "bot answer in the first topic")
    topics = page.locator(".topic")
    await expect(topics).to_have_count(1)
    await expect(topics.nth(0).locator(".msg.from-bot .msg-body")).to_have_text(
        "bot answer in the first topic"
    )
    await expect(topics.nth(0).locator(".msg.from-user .msg-body")).to_have_text(
        "@cclark first topic"
    )

    await page.click(".topic-leave")  # back to "new topic"
    await send(page, "second topic")
    await expect(topics).to_have_count(2)
    await topics.nth(0).locator(".topic-reply").click()
    await send(page, "more on the first")

    await expect(topics.nth(0).locator(".msg.from-user")).to_have_count(2)
    await expect(topics.nth(1).locator(".msg")).to_have_count(1)
    replies = [m for m in user_messages(emu, GROUP) if text_of(m).endswith("more on the first")]
    assert [m.thread_id for m in replies] == [first.thread_id]
    assert [m.root_id for m in replies] == [first.message_id]


class MarkdownCase(NamedTuple):
    test_id: str
    source: str
    html: str


P = '<p class="md-paragraph">'
MARKDOWN_CASES = [
    MarkdownCase(
        "inline_styles",
        "**b** *i* `c` ~~s~~",
        f'{P}<strong>b</strong> <em>i</em> <code class="md-code">c</code> <del>s</del></p>',
    ),
    MarkdownCase("newline_is_a_line_break", "a\nb", f"{P}a<br>b</p>"),
    MarkdownCase(
        "code_fence_is_literal",
        "```py\nx < 1 **not bold**\n```",
        '<pre class="md-pre"><code class="language-py">x &lt; 1 **not bold**</code></pre>',
    ),
    MarkdownCase("unclosed_fence", "```\ncode", '<pre class="md-pre"><code>code</code></pre>'),
    MarkdownCase("heading", "## Title", '<h2 class="md-heading">Title</h2>'),
    MarkdownCase("a_command_is_no_heading", "#new", f"{P}#new</p>"),
    MarkdownCase(
        "nested_list",
        "- a\n  - b\n- c",
        '<div class="md-list"><ul><li>a<ul><li>b</li></ul></li><li>c</li></ul></div>',
    ),
    MarkdownCase(
        "ordered_list",
        "3. x\n4. y",
        '<div class="md-list"><ol start="3"><li>x</li><li>y</li></ol></div>',
    ),
    MarkdownCase(
        "links_only_http",
        "[site](https://example.com/a) [bad](javascript:x)",
        f'{P}<a class="md-link" href="https://example.com/a" target="_blank" '
        'rel="noopener noreferrer">site</a> <span>bad</span></p>',
    ),
    MarkdownCase("entities_are_text", "&#60;b&#62; &amp; &#x41;", f"{P}&lt;b&gt; &amp; A</p>"),
    MarkdownCase(
        "raw_tags_are_text", "<script>x</script>", f"{P}&lt;script&gt;x&lt;/script&gt;</p>"
    ),
    MarkdownCase(
        "font_colour",
        "<font color='grey'>note</font>",
        f'{P}<span class="md-colour-grey">note</span></p>',
    ),
    MarkdownCase("at_all", "<at id=all></at>", f'{P}<span class="md-mention">@all</span></p>'),
    MarkdownCase("snake_case_is_no_italic", "a_b_c", f"{P}a_b_c</p>"),
    MarkdownCase(
        "table",
        "| a | b |\n|---|:-:|\n| 1 | `2` |",
        '<div class="md-table-wrap"><table class="md-table"><thead><tr><th>a</th><th>b</th></tr>'
        '</thead><tbody><tr><td>1</td><td><code class="md-code">2</code></td></tr></tbody>'
        "</table></div>",
    ),
    MarkdownCase("quote", "> q", f'<blockquote class="md-quote">{P}q</p></blockquote>'),
    MarkdownCase("rule", "a\n\n---", f'{P}a</p><hr class="md-rule">'),
]


async def test_markdown_renders_as_feishu_shows_it(page: Page) -> None:
    rendered = await page.evaluate(
        """async (sources) => {
            const { renderMarkdown } = await import("/chat/static/markdown.js");
            return sources.map((source) => {
                const holder = document.createElement("div");
                holder.append(renderMarkdown(source));
                return holder.innerHTML;
            });
        }""",
        [case.source for case in MARKDOWN_CASES],
    )

    wrong = {
        case.test_id: (got, case.html)
        for case, got in zip(MARKDOWN_CASES, rendered, strict=True)
        if got != case.html
    }
    assert wrong == {}
