"""ChatRelay: the gateway's events, as this app's chats see them.

Owns which chats of an event are this app's, one lock per window so a window's messages,
status changes and chat answers are recorded in the order they happened, and the mapping from
events to TurnCards and PromptCards: transcript batches grow the turn card; a prompt gets a
prompt card; the IDLE that ends the agent's turn (StatusEvent.turn_ended) ends the card's turn
and tells the phone; an exit ends it in red, as does a refusal of the model API (rate or usage
limit, credentials, overload), which also gets its own card; the window's lifecycle events
(exit, sleep, resume, a turn stopped for time) become notices (relay.lifecycle). Every callback
only records into the Outbox (staged in the gateway's journal unit, so it commits with the
watermark) and returns: none waits on Feishu. Calls only the gateway's public API.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence

from cclark.cards import turn_title
from cclark.cards.api_problem_card import api_problem_card
from cclark.event_parsers import parse_feishu_channel
from cclark.outbox import Outbox
from cclark.relay.lifecycle import lifecycle_notice
from cclark.relay.prompts import PromptCards
from cclark.relay.turns import TurnCards
from unified_icc import (
    AgentMessage,
    AgentMessageEvent,
    AgentStatus,
    ApiProblem,
    ChannelId,
    Journal,
    MessageKind,
    MessageRole,
    StatusEvent,
    UnifiedICC,
    UnifiedICCError,
    WindowChange,
    WindowEvent,
    WindowId,
)

__all__ = ["ChatRelay"]

logger = logging.getLogger(__name__)


class ChatRelay:
    def __init__(self, *, app_name: str, outbox: Outbox, gateway: UnifiedICC) -> None:
        self._app_name = app_name
        self._outbox = outbox
        self._gateway = gateway
        self._locks: dict[WindowId, asyncio.Lock] = {}
        self._turn_over: dict[WindowId, bool] = {}  # since the last StatusEvent
        journal = gateway.journal
        self._turns = TurnCards(outbox=outbox, journal=journal, verbose=self._verbose)
        self.prompts = PromptCards(outbox=outbox)

    def subscribe(self) -> None:
        """Register with the gateway (once, before start: output written while the bot was
        down is shown, and the open turns are read back before it)."""
        self._gateway.on_open(self.load)
        self._gateway.on_message(self.on_message)
        self._gateway.on_status(self.on_status)
        self._gateway.on_window_change(self.on_window_change)

    def load(self, journal: Journal) -> None:
        """Read back the outbox and the open turns (subscribe() has the gateway call it)."""
        self._outbox.load(journal)
        self._turns.load(journal)

    def lock(self, window_id: WindowId) -> asyncio.Lock:
        """Held while an event of the window is shown.

        Never hold it across an awaited gateway call: the gateway awaits these callbacks.
        Nothing awaited while it is held may wait on the network.
        """
        return self._locks.setdefault(window_id, asyncio.Lock())

    async def on_message(self, event: AgentMessageEvent) -> None:
        channels = self._ours(event.channel_ids)
        if not channels:
            return
        title, window = self._title(event.window_id), event.window_id
        async with self.lock(window):
            if any(m.role is MessageRole.USER and m.kind is MessageKind.TEXT
                   for m in event.messages):  # fmt: skip
                self._turn_over[window] = False  # the person spoke: a new turn began
            over = self._turn_over.get(window, False)
            for channel in channels:
                self._turns.add((window, channel), title, event.messages, turn_over=over)
            interrupted = any(m.kind is MessageKind.INTERRUPT for m in event.messages)
            if interrupted:
                self._turn_over[window] = True  # no Stop hook follows an interrupted turn
            if interrupted or (over and _ends_with_a_reply(event)):
                # Stopped by the person, or last words written after the turn was over.
                for channel in channels:
                    self._turns.end((window, channel))
            refusals = [m for m in event.messages if m.kind is MessageKind.API_ERROR]
            if refusals:
                self._turn_over[window] = True  # the CLI gave up: no reply will follow
                for channel in channels:
                    self._turns.end((window, channel), ok=False)
                    self._show_refusals(window, channel, title, refusals)

    def _show_refusals(
        self, window: WindowId, channel: ChannelId, title: str, refusals: Sequence[AgentMessage]
    ) -> None:
        """One card per refusal of the model API, keyed by its message (shown once)."""
        for message in refusals:
            problem = message.problem or ApiProblem.OTHER
            card = api_problem_card(problem, message.text, title=title)
            self._outbox.put_card(f"api-error:{channel}:{window}:{message.id}", channel, card)

    async def on_status(self, event: StatusEvent) -> None:
        window, channels = event.window_id, self._ours(event.channel_ids)
        async with self.lock(window):
            self._turn_over[window] = event.turn_ended or event.status is AgentStatus.DEAD
            if event.status is AgentStatus.PROMPT and event.prompt is not None:
                if channels:
                    self.prompts.show(window, channels, event.prompt, self._title(window))
                return
            self.prompts.close(window)
            for channel in channels:
                if event.turn_ended:
                    self._turns.end((window, channel))
                elif event.status is AgentStatus.DEAD:
                    self._turns.end((window, channel), ok=False)

    async def on_window_change(self, event: WindowEvent) -> None:
        window = event.window_id
        if event.kind is WindowChange.CLOSED:
            async with self.lock(window):
                self.prompts.close(window)
                self._turns.forget_window(window)
                self._turn_over.pop(window, None)
            return
        recorded = self._recorded(window)
        title = self._title(window)
        for channel in self._ours(event.channel_ids):
            notice = lifecycle_notice(event, channel, title=title, recorded=recorded)
            if notice is None:
                continue
            key = f"{event.kind.value}:{window}:{secrets.token_hex(8)}"
            if notice.card is not None:
                self._outbox.put_card(key, channel, notice.card)
            else:
                self._outbox.put_text(key, channel, notice.text)

    def _recorded(self, window: WindowId) -> bool:
        try:
            self._gateway.window_info(window)
        except UnifiedICCError:
            return False
        return True

    def _ours(self, channels: Sequence[ChannelId]) -> list[ChannelId]:
        # Another app's chats are answered by that app's own process.
        return [c for c in channels if parse_feishu_channel(c).app == self._app_name]

    def _verbose(self, channel: ChannelId) -> bool:
        return bool(self._gateway.channel_setting(channel, "verbose", False))

    def _title(self, window_id: WindowId) -> str:
        try:
            info = self._gateway.window_info(window_id)
        except UnifiedICCError:
            return str(window_id)
        return turn_title(info.provider, info.cwd.name, info.mode)


def _ends_with_a_reply(event: AgentMessageEvent) -> bool:
    last = event.messages[-1] if event.messages else None
    return (last is not None and last.role is MessageRole.ASSISTANT
            and last.kind in (MessageKind.TEXT, MessageKind.OUTPUT))  # fmt: skip
