"""Orchestrator: ``#ask`` — a chat's request in plain words, carried out by a model with tools.

Owns one request's conversation with the model (instructions, the chat's short history, the
request, then rounds of tool calls and their results until the model answers in words),
bounded by orchestrator.max_tool_calls; a line in the chat and an audit record per tool
call; the person's confirmation of a close or a yolo start (a card with Yes/No buttons, or a
typed yes/no, from the person who asked, within CONFIRM_WITHIN seconds); and running each
request in the background, one per chat at a time, so the model's slowness never holds up
the chat's other messages. What the tools may do is ChatTools'; the endpoint is the
ChatModel's. Knows nothing of tmux or of the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from cclark.ask_model import ChatModel, ToolCall, WireMessage
from cclark.audit import AuditKind, AuditLog
from cclark.cards import CardJson
from cclark.cards.buttons import ButtonStyle, ClickKind, button
from cclark.cards.choices_card import CONFIRM_TITLE, choices_card
from cclark.config import OrchestratorSettings
from cclark.errors import OrchestratorError
from cclark.event_parsers import FeishuMessageEvent
from cclark.handlers.ask_tools import ChatTools, PendingAction, ToolResult
from cclark.handlers.dispatch import Replier, audit_event
from cclark.handlers.tap_answer import TapAnswer, ToastKind, refused
from unified_icc import ChannelId, UnifiedICC

__all__ = ["CONFIRM_WITHIN", "NOT_CONFIGURED", "Orchestrator"]

logger = logging.getLogger(__name__)

CONFIRM_WITHIN: Final = 300.0
NOT_CONFIGURED: Final = (
    "#ask needs the orchestrator, and it is not configured. To turn it on, add to config.yaml "
    "an OpenAI-compatible chat-completions endpoint with tool calls:\n"
    "orchestrator:\n  base_url: https://api.openai.com/v1\n  model: <model name>\n"
    "  api_key: <key>\nthen restart cclark (docs/commands.md, #ask)."
)
USAGE: Final = "Send #ask and what you want, e.g. #ask start claude in projects/app."
BUSY: Final = ("Still working on this chat's previous #ask: wait for its answer, then ask "
               "again.")  # fmt: skip
INSTRUCTIONS: Final = """You are cclark's orchestrator in one Feishu chat. The person drives AI \
coding agents (Claude Code, Codex, Gemini) and shells that run in tmux windows on their own \
machine. You act only through the tools, and only on this chat's sessions.
Workspace folders: {roots}. Installed agents: {installed}.
This chat's sessions now:
{sessions}
Rules: start sessions in standard mode unless the person asked for yolo. Closing a session and \
a yolo start are confirmed by the person: the tool asks them, so do not ask in words. A \
session's replies reach the chat by themselves: after send_text, do not wait for them or \
repeat them. Answer briefly, in the person's language."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Confirmation:
    id: str
    channel: ChannelId
    asker: str
    action: PendingAction
    expires_at: float

    @property
    def card_key(self) -> str:
        return f"confirm:{self.id}"


class Orchestrator:
    def __init__(
        self,
        *,
        settings: OrchestratorSettings | None,
        model: ChatModel | None,
        gateway: UnifiedICC,
        replier: Replier,
        audit: AuditLog,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._model = model
        self._gateway = gateway
        self._tools = ChatTools(gateway=gateway)
        self._replier = replier
        self._audit = audit
        self._clock = clock
        self._history: dict[ChannelId, deque[WireMessage]] = {}
        self._running: dict[ChannelId, asyncio.Task[None]] = {}
        self._pending: dict[ChannelId, _Confirmation] = {}

    @property
    def takes_unbound_chats(self) -> bool:
        """Whether a message of a chat with no session goes to the orchestrator."""
        return self._model is not None and bool(self._settings and self._settings.unbound_chats)

    async def ask(self, event: FeishuMessageEvent, text: str) -> None:
        """Start carrying out the request in the background (one per chat at a time)."""
        if self._model is None or self._settings is None:
            await self._say(event, NOT_CONFIGURED)
            return
        if not text.strip():
            await self._say(event, USAGE)
            return
        channel = event.channel_id
        running = self._running.get(channel)
        if running is not None and not running.done():
            await self._say(event, BUSY)
            return
        task = asyncio.create_task(self._carry_out(event, text.strip()), name=f"ask-{channel}")
        self._running[channel] = task
        task.add_done_callback(lambda done: self._forget_task(channel, done))

    async def stop(self) -> None:
        """Cancel the requests in flight and close the endpoint's client."""
        tasks, self._running = list(self._running.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._model is not None:
            await self._model.close()

    # -- confirmations -------------------------------------------------------------------------

    def awaits_answer(self, event: FeishuMessageEvent, text: str) -> bool:
        """Whether text is the sender's yes or no to a confirmation they were asked for."""
        pending = self._pending.get(event.channel_id)
        return (pending is not None and pending.asker == event.sender_open_id
                and self._clock() < pending.expires_at
                and _yes_or_no(text) is not None)  # fmt: skip

    async def answer(self, event: FeishuMessageEvent, text: str) -> None:
        """The typed yes or no (awaits_answer said it is one)."""
        pending = self._pending.pop(event.channel_id, None)
        yes = _yes_or_no(text)
        if pending is not None and yes is not None:
            await self._settle(event, pending, yes=yes)

    def tap(self, event: FeishuMessageEvent, confirmation_id: str, op: str) -> TapAnswer:
        """A tap on a confirmation card's Yes or No."""
        pending = self._pending.get(event.channel_id)
        if op not in ("yes", "no"):
            return refused("That button is not one this bot made.")
        if pending is None or pending.id != confirmation_id:
            return refused("This question is over: nothing was done. #ask again if needed.")
        if pending.asker != event.sender_open_id:
            return refused("Only the person who asked can answer this.")
        del self._pending[event.channel_id]
        if self._clock() >= pending.expires_at:
            expired = _confirm_card(pending, outcome="Expired: nothing was done")
            return TapAnswer(kind=ToastKind.WARNING, card=expired,
                             toast="This question expired: nothing was done. #ask again if "
                                   "needed.")  # fmt: skip
        yes = op == "yes"
        card = _confirm_card(pending, outcome="Yes" if yes else "No")
        toast = "Doing it…" if yes else "Not done."
        return TapAnswer(kind=ToastKind.SUCCESS, toast=toast, card=card,
                         job=lambda: self._settle(event, pending, yes=yes))  # fmt: skip

    async def _confirm(self, event: FeishuMessageEvent, action: PendingAction) -> None:
        """Ask the person (a card; typing yes or no works too); a newer question replaces an
        older one."""
        older = self._pending.pop(event.channel_id, None)
        if older is not None:
            await self._replier.reply_card(event, older.card_key,
                                           _confirm_card(older, outcome="Replaced by a newer "
                                                         "question"))  # fmt: skip
        token = secrets.token_hex(6)
        pending = _Confirmation(id=token, channel=event.channel_id,
                                asker=event.sender_open_id or "", action=action,
                                expires_at=self._clock() + CONFIRM_WITHIN)  # fmt: skip
        self._pending[event.channel_id] = pending
        await self._replier.reply_card(event, pending.card_key, _confirm_card(pending))

    async def _settle(
        self, event: FeishuMessageEvent, pending: _Confirmation, *, yes: bool
    ) -> None:
        outcome = _confirm_card(pending, outcome="Yes" if yes else "No")
        await self._replier.reply_card(event, pending.card_key, outcome)
        question = pending.action.question
        if not yes:
            audit_event(self._audit, AuditKind.COMMAND, event, f"#ask declined: {question}")
            await self._say(event, "Not done: you said no.")
            self._remember(event.channel_id, f"(the person said no to: {question})",
                           "Not done.")  # fmt: skip
            return
        audit_event(self._audit, AuditKind.COMMAND, event, f"#ask confirmed: {question}",
                    pending.action.window)  # fmt: skip
        done = await self._tools.perform(event.channel_id, pending.action)
        await self._say(event, done)
        self._remember(event.channel_id, f"(the person said yes to: {question})", done)

    # -- one request ---------------------------------------------------------------------------

    async def _carry_out(self, event: FeishuMessageEvent, text: str) -> None:
        try:
            await self._converse(event, text)
        except OrchestratorError as exc:
            await self._say(event, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception:  # supervisor: a bug here must not go unsaid in the chat
            logger.exception("#ask failed in %s", event.channel_id)
            await self._say(event, "#ask failed unexpectedly (the bot's log says why); what "
                                   "was done is above.")  # fmt: skip

    async def _converse(self, event: FeishuMessageEvent, text: str) -> None:
        """Rounds of the model's tool calls until it answers in words, or the bound is met."""
        assert self._model is not None  # ask() checked
        assert self._settings is not None
        channel = event.channel_id
        messages: list[WireMessage] = [
            {"role": "system", "content": self._instructions(channel)},
            *self._history.get(channel, ()),
            {"role": "user", "content": text},
        ]
        done: list[str] = []
        limit = self._settings.max_tool_calls
        while True:
            turn = await self._model.complete(messages, self._tools.schemas())
            if not turn.tool_calls:
                answer = turn.text or "(The orchestrator gave no answer.)"
                await self._say(event, answer)
                self._remember(channel, text, _summary(done, answer))
                return
            messages.append(turn.wire())
            for call in turn.tool_calls:
                if len(done) >= limit:
                    await self._say(event, f"Stopped after {limit} tool calls without an "
                                           "answer (orchestrator.max_tool_calls): what was "
                                           "done is above. Ask again, more precisely.")  # fmt: skip
                    self._remember(channel, text, _summary(done, "(stopped)"))
                    return
                result = await self._call(event, call, text)
                done.append(result.line)
                messages.append({"role": "tool", "tool_call_id": call.id,
                                 "content": result.content})  # fmt: skip
                if result.confirm is not None:
                    await self._confirm(event, result.confirm)
                    self._remember(channel, text, _summary(done, "(asked the person)"))
                    return

    async def _call(self, event: FeishuMessageEvent, call: ToolCall, asked: str) -> ToolResult:
        result = await self._tools.call(event.channel_id, call.name, call.arguments, asked)
        kind = AuditKind.REFUSAL if result.refused else AuditKind.TOOL_CALL
        audit_event(self._audit, kind, event, f"#ask {call.name} {call.arguments} → "
                                              f"{result.line}", result.window)  # fmt: skip
        await self._say(event, result.line)
        return result

    def _instructions(self, channel: ChannelId) -> str:
        roots = self._tools.workspace().roots
        return INSTRUCTIONS.format(roots=", ".join(map(str, roots)) or "none",
                                   installed=", ".join(self._tools.installed()) or "none",
                                   sessions=self._tools.sessions_summary(channel))  # fmt: skip

    def _remember(self, channel: ChannelId, asked: str, answered: str) -> None:
        assert self._settings is not None
        keep = 2 * self._settings.history
        if keep == 0:
            return
        history = self._history.setdefault(channel, deque(maxlen=keep))
        history.append({"role": "user", "content": asked})
        history.append({"role": "assistant", "content": answered})

    def _forget_task(self, channel: ChannelId, task: asyncio.Task[None]) -> None:
        if self._running.get(channel) is task:
            del self._running[channel]

    async def _say(self, event: FeishuMessageEvent, text: str) -> None:
        await self._replier.reply_text(event, text)


def _yes_or_no(text: str) -> bool | None:
    word = text.strip().lower().rstrip(".!")
    return {"yes": True, "no": False}.get(word)


def _summary(done: list[str], answer: str) -> str:
    """What a request did, as the history remembers it (the tool lines, then the answer)."""
    return "\n".join([*done, answer])


def _confirm_card(pending: _Confirmation, *, outcome: str | None = None) -> CardJson:
    value = {"k": ClickKind.CONFIRM.value, "c": pending.channel, "id": pending.id}
    buttons = [
        button("Yes", {**value, "op": "yes"}, style=ButtonStyle.DANGER),
        button("No", {**value, "op": "no"}),
    ]
    text = f"{pending.action.question}\nTap Yes or No, or reply yes or no."
    return choices_card(title=CONFIRM_TITLE, text=text, buttons=buttons, outcome=outcome)
