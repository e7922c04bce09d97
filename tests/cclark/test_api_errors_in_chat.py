"""A model API that refuses (rate limit, bad key, overload) reaches the chat as its own card.

Each real CLI, seeded not to retry, talks to a fake model API that refuses every turn with one
status at a time; the chat must get the card naming that problem, the turn's card must end
red, and no "✅" notice may say the turn succeeded. Once the API answers again the session
works as before. The screens each CLI shows are kept as fixtures (scripts/capture_error_screens.py).
"""

from __future__ import annotations

import pytest

from chat_view import buttons, card_text, colour
from fakes.model_wire import api_error
from feishu_emulator import Emulator
from real_chat import CHAT, real_chat
from support import World, wait_until

pytestmark = pytest.mark.e2e

# Each refusal: (status, the title of its card, words of the CLI's report).
REFUSALS = {
    "claude": ((429, "⏳ Rate limited", "Fake rate limit"),
               (401, "🔑 Not signed in to the model API", "Not logged in"),
               (529, "🔥 Model API overloaded", "Fake overload")),
    "codex": ((429, "⏳ Rate limited", "429 Too Many Requests"),
              (401, "🔑 Not signed in to the model API", "401 Unauthorized"),
              (503, "🔥 Model API overloaded", "at capacity")),
}  # fmt: skip


@pytest.mark.parametrize("provider", ["claude", "codex"])
async def test_each_refusal_of_the_model_api_gets_its_own_card_and_no_done_notice(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    async with real_chat(world, emu, monkeypatch, provider, retries=False) as chat:
        for status, title, words in REFUSALS[provider]:
            chat.apis.refuse(provider, api_error(provider, status))
            await chat.say(f"hello {status}")
            await chat.card(f"{title} · {provider} · demo", words)
            turn = await chat.card("⚠️ ", words)
            await wait_until(lambda t=turn: colour(chat.emu.message(t.message_id).body()) == "red",
                             what="the refused turn's card to turn red")  # fmt: skip
        chat.apis.refuse(provider, None)

        # The API answers again: the next message works, and is the only turn that ended well.
        _, done = await chat.turn("Say hello")
        assert done == f"✅ {provider} · demo: FAKE-REPLY: you said 'Say hello'"
        assert chat.done_notices() == [done]
        texts = [card_text(m.body()) for m in chat.emu.messages_in(CHAT)
                 if m.msg_type == "interactive"]  # fmt: skip
        for _, title, _ in REFUSALS[provider]:
            assert sum(title in text for text in texts) == 1, title


async def test_gemini_s_refusals_get_cards_its_quota_dialog_is_answered_and_an_overload_told(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    stall = {"stall_notice": 5}
    async with real_chat(world, emu, monkeypatch, "gemini", retries=False, gateway=stall) as chat:
        # A bad key: Gemini reports it at once.
        chat.apis.refuse("gemini", api_error("gemini", 401))
        await chat.say("hello 401")
        await chat.card("🔑 Not signed in to the model API · gemini · demo", "UNAUTHENTICATED")

        # A spent daily quota: Gemini asks whether to keep trying; "2" (Stop) gives up.
        chat.apis.refuse("gemini", api_error("gemini", 429))
        await chat.say("hello 429")
        asked = await chat.prompt_card("🚫 Usage limit reached", "Keep trying", "Stop")
        await chat.say("2")
        await chat.card("You chose **2.** Stop", message_id=asked.message_id)
        limit = await chat.card("🚫 Usage limit reached · gemini · demo", "daily quota")
        assert limit.message_id != asked.message_id

        # An overload: Gemini 0.61 retries it without end and shows only its spinner, so the
        # chat is told once that the turn shows nothing new (here after 5 s); when the API
        # answers again, the retried turn ends as any other.
        chat.apis.refuse("gemini", api_error("gemini", 503))
        before = await chat.say("hello 503")
        stalled = await chat.card("⏳ No new output", "gemini · demo has shown no new output "
                                  "for 5 s", "its model API may be refusing")  # fmt: skip
        assert set(buttons(stalled.body())) == {"Screenshot", "Esc"}
        assert chat.done_notices() == []
        chat.apis.refuse("gemini", None)
        done = await chat.done(before)
        assert done == "✅ gemini · demo: FAKE-REPLY: you said 'hello 503'"
        assert chat.done_notices() == [done]
        told = [m for m in chat.emu.messages_in(CHAT) if "⏳ No new output" in m.content]
        assert len(told) == 1
