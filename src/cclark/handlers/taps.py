"""Taps: from a raw ``card.action.trigger`` to the answer Feishu shows, in well under 3 s.

Owns what a tap must pass before it does anything, exactly as a message must: read once (a
re-pushed tap is answered, not acted on twice), from a person on allowed_users (a stranger's
tap is refused and audited), on a card of the chat it was tapped in (a forwarded card
does nothing), for a window that chat owns. Then the tap is answered from memory (a toast,
and the tapped card as it should now look) and its slow part (keystrokes, starting a window)
is queued in the chat's order. A tap on a stale card (the prompt already answered, the
wizard moved on, the window gone, a card from before a restart) is told so and changes
nothing. Knows nothing of lark-oapi (FeishuWsClient calls answer) nor of tmux.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from cclark.audit import AuditKind, AuditLog, AuditRecord
from cclark.cards.buttons import ClickKind
from cclark.event_parsers import (
    CardClick,
    ChatType,
    FeishuMessageEvent,
    parse_card_click,
    parse_feishu_channel,
)
from cclark.handlers.dispatch import InboundPolicy, Job, audit_event
from cclark.handlers.message import MessageHandler, answerer
from cclark.handlers.tap_answer import TapAnswer, ToastKind, refused
from cclark.relay.prompts import PromptCards, PromptState
from cclark.seen_messages import SeenMessages
from unified_icc import ChannelId, WindowId

__all__ = ["Taps"]

logger = logging.getLogger(__name__)

UNREADABLE = "That tap could not be read, so nothing was done."
STRANGER = "You are not on this bot's allowlist: nothing was done."
OTHER_CHAT = "This card belongs to another chat: taps on it do nothing here."
REPEATED = "Already received: that tap was acted on once."
GONE = "That session is gone or not this chat's: nothing was sent."
BEFORE_RESTART = ("This card is from before the bot restarted: answer on the newest card, or "
                  "reply with the number.")  # fmt: skip


class Taps:
    def __init__(
        self,
        *,
        policy: InboundPolicy,
        seen: SeenMessages,
        audit: AuditLog,
        handler: MessageHandler,
        prompts: PromptCards,
        enqueue: Callable[[ChannelId, str, Job], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._policy = policy
        self._seen = seen
        self._audit = audit
        self._handler = handler
        self._prompts = prompts
        self._enqueue = enqueue
        self._clock = clock
        self._chat_types: dict[str, ChatType] = {}

    def note_inbound(self, event: FeishuMessageEvent) -> None:
        """Learn whether a chat is one-to-one (a card then says "You chose")."""
        self._chat_types[event.chat_id] = event.chat_type

    async def answer(self, data: Any) -> dict[str, Any]:
        """The callback's answer (toast, maybe a card) for one raw tap; its work is queued."""
        tap = parse_card_click(self._policy.app_name, data)
        if tap is None:
            logger.info("unreadable card tap")
            return refused(UNREADABLE).wire()
        channel = self._channel(tap)
        answer = await self._answer(tap, channel)
        if answer.job is not None and channel is not None:
            self._enqueue(channel, f"tap {tap.event_id}", answer.job)
        return answer.wire()

    async def _answer(self, tap: CardClick, channel: ChannelId | None) -> TapAnswer:
        if not await self._seen.first_time(f"tap:{tap.event_id}"):
            logger.info("skipping a re-pushed tap %s", tap.event_id)
            return TapAnswer(kind=ToastKind.INFO, toast=REPEATED)
        if not self._policy.allows(tap.operator_open_id):
            self._refusal(tap, channel or "", "card tap from a sender not on allowed_users")
            return refused(STRANGER)
        if channel is None:
            self._refusal(tap, "", "card tap on a card of another chat")
            return refused(OTHER_CHAT)
        event = self._event(tap, channel)
        kind, value = tap.value.get("k"), tap.value
        if kind == ClickKind.PROMPT:
            return self._prompt(event, value)
        if kind == ClickKind.WIZARD:
            step = value.get("s")
            return self._handler.tap_wizard(event, str(value.get("id")),
                                            step if isinstance(step, int) else -1,
                                            str(value.get("say")))  # fmt: skip
        if kind == ClickKind.SESSION:
            return self._handler.tap_session(event, str(value.get("op")), _window(value))
        if kind == ClickKind.KEY:
            return self._handler.tap_key(event, _window(value), str(value.get("key")))
        if kind == ClickKind.CONFIRM:
            return self._handler.tap_confirm(event, str(value.get("id")), str(value.get("op")))
        return refused(UNREADABLE)

    def _prompt(self, event: FeishuMessageEvent, value: Mapping[str, Any]) -> TapAnswer:
        window, choice = _window(value), value.get("n")
        if not self._handler.owns(event.channel_id, window):
            return refused(GONE)
        look = self._prompts.lookup(window, str(value.get("p")))
        if look.state is PromptState.UNKNOWN:
            return refused(BEFORE_RESTART)
        if look.state is not PromptState.OPEN or look.prompt is None:
            answer = look.answer
            if answer is None:
                return TapAnswer(kind=ToastKind.INFO, toast="Already answered in the terminal.")
            done = f"Already answered: {answer.by} chose {answer.choice}."
            return TapAnswer(kind=ToastKind.INFO, toast=done)
        option = next((o for o in look.prompt.options if o.number == choice), None)
        if option is None:
            return refused("That option is not on the question any more: nothing was sent.")
        audit_event(self._audit, AuditKind.PROMPT_ANSWER, event, f"{option.number} (button)",
                    window)  # fmt: skip
        self._prompts.answering(window, look.prompt, option.number, answerer(event))
        card = self._prompts.card_for(window, event.channel_id)
        return TapAnswer(
            kind=ToastKind.SUCCESS,
            toast=f"Chose {option.number}. {option.label}",
            card=card,
            job=lambda: self._handler.press_option(event, window, option.number),
        )

    def _channel(self, tap: CardClick) -> ChannelId | None:
        """The channel the card was made for, if it is the chat the tap came from."""
        raw = tap.value.get("c")
        try:
            channel = parse_feishu_channel(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
        if channel is None or channel.app != tap.app_name or channel.chat_id != tap.chat_id:
            return None
        return channel.channel_id

    def _event(self, tap: CardClick, channel: ChannelId) -> FeishuMessageEvent:
        """The tap as the message it stands for (who, where), for replies and the audit."""
        return FeishuMessageEvent(
            app_name=tap.app_name,
            chat_id=tap.chat_id,
            chat_type=self._chat_types.get(tap.chat_id, ChatType.GROUP),
            thread_id=parse_feishu_channel(channel).thread_id,
            root_id=None,
            message_id=tap.message_id,
            sender_open_id=tap.operator_open_id,
            sender_type="user",
            message_type="card_tap",
            text=None,
            event_id=tap.event_id,
            create_time_ms=int(self._clock() * 1000),
        )

    def _refusal(self, tap: CardClick, channel: str, detail: str) -> None:
        self._audit.record(
            AuditRecord(
                kind=AuditKind.REFUSAL,
                app=tap.app_name,
                user=tap.operator_open_id,
                chat=channel or tap.chat_id,
                detail=detail,
                message_id=tap.message_id,
            )
        )


def _window(value: Mapping[str, Any]) -> WindowId:
    return WindowId(str(value.get("w")))
