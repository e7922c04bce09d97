"""NewSessions: the ``#new`` flow of each chat and person, from the first step to the window.

Owns the open wizards (one per chat and person, by whom the step buttons may be tapped), a
card per step whose buttons give the step's answers, closing a step's card with the answer it
got, ending a wizard (#cancel, a timeout, a new #new), and starting the window when the
wizard is done; the first text then goes to the agent through the message handler. The
wizard's stages and rules are session_creation's; this calls only the gateway's public API.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from cclark.audit import AuditKind, AuditLog
from cclark.cards.buttons import ButtonStyle, ClickKind, button
from cclark.cards.choices_card import WIZARD_TITLE, choices_card
from cclark.event_parsers import FeishuMessageEvent
from cclark.handlers.dispatch import Replier, audit_event
from cclark.handlers.new_options import NewOptions, limits_line, parse_new_options
from cclark.handlers.session_creation import (
    Choice,
    Launch,
    ProviderChoice,
    Wizard,
    WizardState,
)
from cclark.handlers.tap_answer import TapAnswer, ToastKind, refused
from cclark.handlers.user_input import shortened
from unified_icc import ChannelId, UnifiedICC, UnifiedICCError, Workspace

__all__ = ["WIZARD_TIMEOUT", "NewSessions"]

WIZARD_TIMEOUT: Final = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class _StepCard:
    """The card of one wizard step: its outbox key, its text and the answers it offers."""

    key: str
    step: int
    text: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _OpenWizard:
    state: WizardState
    wizard_id: str
    options: NewOptions
    card: _StepCard | None = None


class NewSessions:
    def __init__(
        self,
        *,
        gateway: UnifiedICC,
        replier: Replier,
        audit: AuditLog,
        to_agent: Callable[[FeishuMessageEvent, str], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._replier = replier
        self._audit = audit
        self._to_agent = to_agent
        self._clock = clock
        self._wizards: dict[tuple[ChannelId, str], _OpenWizard] = {}

    def is_open(self, event: FeishuMessageEvent) -> bool:
        """Whether the sender has a #new wizard open in this chat."""
        return _key(event) in self._wizards

    async def start(self, event: FeishuMessageEvent, text: str) -> str:
        """#new [--idle N] [--timeout N] [text]: close the chat's windows, then the wizard's
        first step (a card); the answer to say in words, if any. Malformed options change
        nothing."""
        options = parse_new_options(text)
        if isinstance(options, str):
            return options
        closed = await self._gateway.kill_channel_windows(event.channel_id)
        orphans = await self._gateway.list_orphaned_agent_windows()
        notes = []
        if closed:
            notes.append(f"Closed this chat's previous session ({', '.join(closed)}).")
        if orphans:
            notes.append(f"Note: {len(orphans)} agent window(s) in tmux belong to no chat; they "
                         "were left alone (see #session list).")  # fmt: skip
        key = _key(event)
        await self._end_wizard(event, key, "a new #new was sent")
        state, answer = self._wizard().start(options.text, now=self._clock())
        if not isinstance(state, WizardState):
            return "\n".join([*notes, answer])
        opened = self._wizards[key] = _OpenWizard(state=state, wizard_id=secrets.token_hex(6),
                                                  options=options)  # fmt: skip
        await self._show_step(event, opened, "\n".join([*notes, answer]))
        return ""

    async def step(self, event: FeishuMessageEvent, text: str) -> None:
        """One answer to the sender's open wizard, typed or tapped."""
        key = _key(event)
        opened = self._wizards.get(key)
        if opened is None:  # ended (#cancel, a timeout) after a tap was queued
            await self._say(event, "This #new wizard is over. Send #new to start again.")
            return
        wizard = self._wizard()
        if wizard.expired(opened.state, now=self._clock()):
            await self._end_wizard(event, key, "timed out")
            await self._say(event, "The #new wizard timed out. Send #new to start again.")
            return
        # The wizard moves on only once a step has an outcome: a failing step leaves it put.
        outcome, answer = wizard.step(opened.state, text, now=self._clock())
        if isinstance(outcome, WizardState) and _same_step(outcome, opened.state):
            self._wizards[key] = dataclasses.replace(opened, state=outcome)
            if answer:
                await self._say(event, answer)  # a refusal: the step's card still stands
            return
        said = _as_shown(opened.card, text)
        if isinstance(outcome, WizardState):
            await self._close_step(event, opened, said)
            opened = self._wizards[key] = dataclasses.replace(opened, state=outcome)
            await self._show_step(event, opened, answer)
            return
        await self._end_wizard(event, key, said)
        if answer:
            await self._say(event, answer)
        if isinstance(outcome, Launch):
            await self._launch(event, outcome, opened.options)

    async def _show_step(self, event: FeishuMessageEvent, opened: _OpenWizard, text: str) -> None:
        """A new card for the wizard's current step, with a button per answer it takes."""
        step = opened.card.step + 1 if opened.card else 1
        choices = (*self._wizard().choices(opened.state), Choice(label="Cancel", say="#cancel"))
        card = _StepCard(key=f"wizard:{opened.wizard_id}:{step}", step=step, text=text,
                         choices=choices)  # fmt: skip
        self._wizards[_key(event)] = dataclasses.replace(opened, card=card)
        await self._replier.reply_card(event, card.key, self._step_card(event, opened, card))

    async def _close_step(self, event: FeishuMessageEvent, opened: _OpenWizard, said: str) -> None:
        """The step's card shows what was answered and loses its buttons."""
        if opened.card is not None:
            card = choices_card(title=WIZARD_TITLE, text=opened.card.text, buttons=(),
                                outcome=said)  # fmt: skip
            await self._replier.reply_card(event, opened.card.key, card)

    async def _end_wizard(
        self, event: FeishuMessageEvent, key: tuple[ChannelId, str], why: str
    ) -> None:
        opened = self._wizards.pop(key, None)
        if opened is not None:
            await self._close_step(event, opened, why)

    def _step_card(
        self, event: FeishuMessageEvent, opened: _OpenWizard, card: _StepCard
    ) -> dict[str, object]:
        base = {"k": ClickKind.WIZARD.value, "c": event.channel_id, "id": opened.wizard_id,
                "s": card.step}  # fmt: skip
        buttons = [
            button(choice.label, {**base, "say": choice.say}, style=_style(choice))
            for choice in card.choices
        ]
        return choices_card(title=WIZARD_TITLE, text=card.text, buttons=buttons)

    def tap(self, event: FeishuMessageEvent, wizard_id: str, step: int, say: str) -> TapAnswer:
        """A tap on a wizard step's button: the same as typing its answer, if that step is
        still the wizard's current one and the tapper is the person running it."""
        opened = self._wizards.get(_key(event))
        if opened is None or opened.wizard_id != wizard_id:
            others = any(w.wizard_id == wizard_id for w in self._wizards.values())
            if others:
                return refused("This #new wizard is someone else's: send #new to start your own.")
            return refused("This #new wizard is over. Send #new to start again.")
        card = opened.card
        if card is None or card.step != step:
            return refused("That step is done: use the newest card, or type your answer.")
        choice = next((c for c in card.choices if c.say == say), None)
        if choice is None:
            return refused("That is not one of this step's answers.")
        # The card is closed by the step itself, through the outbox: a step that turns out
        # refused (the folder went away meanwhile) leaves the card and its buttons as they were.
        return TapAnswer(kind=ToastKind.SUCCESS, toast=choice.label,
                         job=lambda: self.step(event, say))  # fmt: skip

    async def _launch(self, event: FeishuMessageEvent, launch: Launch, options: NewOptions) -> None:
        detail = f"launch {launch.provider} {launch.mode}"
        audit_event(self._audit, AuditKind.COMMAND, event, detail)
        try:
            window = await self._gateway.create_window(
                launch.path, launch.provider, launch.mode, channel_id=event.channel_id,
                idle_timeout=options.idle, turn_timeout=options.timeout,
            )  # fmt: skip
        except UnifiedICCError as exc:
            await self._say(event, f"Could not start the session: {exc}")
            return
        mode = "standard" if launch.mode == "normal" else launch.mode
        what = launch.provider if launch.provider == "shell" else f"{launch.provider} ({mode})"
        limits = limits_line(self._gateway.window_limits(window.window_id))
        await self._say(event, f"Session started: {what} in {launch.path}, "
                               f"window {window.window_id}. Send text to talk to it.\n"
                               f"{limits}")  # fmt: skip
        if launch.text:
            await self._to_agent(event, launch.text)

    def _wizard(self) -> Wizard:
        providers = [ProviderChoice(name=name, installed=installed)
                     for name, installed in self._gateway.installed_providers()]  # fmt: skip
        workspace = Workspace(self._gateway.config.gateway.workspace_roots)
        return Wizard(workspace=workspace, providers=providers, timeout=WIZARD_TIMEOUT)

    async def _say(self, event: FeishuMessageEvent, text: str) -> None:
        await self._replier.reply_text(event, text)


def _key(event: FeishuMessageEvent) -> tuple[ChannelId, str]:
    return event.channel_id, event.sender_open_id or ""


def _as_shown(card: _StepCard | None, text: str) -> str:
    """An answer as its step's card shows it: the button's label when it is one's answer."""
    choices = card.choices if card else ()
    lowered = text.strip().lower()
    return next((c.label for c in choices if c.say.lower() == lowered), shortened(text))


def _style(choice: Choice) -> ButtonStyle:
    return ButtonStyle.DANGER if choice.risky or choice.say == "#cancel" else ButtonStyle.DEFAULT


def _same_step(a: WizardState, b: WizardState) -> bool:
    """Whether a wizard step left the wizard where it was (a refusal, or a failed step)."""
    return (a.stage, a.cwd, a.listing, a.provider) == (b.stage, b.cwd, b.listing, b.provider)
