"""MessageHandler: routes one chat message to the wizard, a prompt answer, a command, or the agent.

Owns the order of that decision, the ``#new`` flow around the wizard (closing this chat's
windows, warning about orphans, starting the window, sending the first text), and answering a
prompt with a number (telling the prompt cards first, so the card shows who chose what).
Calls only the gateway's public API (never tmux); how output looks is cclark.relay's.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Final, Protocol

from cclark.audit import AuditKind, AuditLog
from cclark.event_parsers import ChatType, FeishuMessageEvent
from cclark.handlers.commands import SessionCommands
from cclark.handlers.dispatch import Replier, audit_event
from cclark.handlers.session_creation import Launch, ProviderChoice, Wizard, WizardState
from cclark.handlers.user_input import is_number, parse_choice, quoted, shortened
from unified_icc import (
    AgentStatus,
    ChannelId,
    PromptInfo,
    UnifiedICC,
    UnifiedICCError,
    WindowId,
    Workspace,
)

__all__ = ["FEEDBACK", "HELP", "MessageHandler", "PromptAnswers", "asks_for_feedback"]

logger = logging.getLogger(__name__)

HELP = """cclark drives AI coding agents running in tmux on your machine.

#new [text] — start a session: pick a folder, an agent and a mode (the text is sent first)
#status — this chat's session: agent, folder, session id, state
#session list | switch <n> | close <n> — this chat's sessions (and orphaned agent windows)
#screenshot — a picture of the agent's terminal
#esc — press Escape in the agent
#verbose on|off — show thinking and full tool output
#cancel — leave the #new wizard
#help — this message

Any other text goes to the agent. When the agent asks a question with numbered options,
reply with the number."""

NO_SESSION = "This chat has no agent session. Send #new to start one, or #help."
WIZARD_WORDS = ("#select", "#mkdir", "#cancel")
WIZARD_TIMEOUT = 600.0
FEEDBACK = ("Chose {choice}. {label} — tell the agent what to change: your next message goes "
            "to it as feedback on the plan.")  # fmt: skip
_FEEDBACK_OPTION: Final = re.compile(
    r"\bkeep planning\b|\bfeedback\b|\btell \w+ what to (?:change|do)", re.IGNORECASE
)


class PromptAnswers(Protocol):
    """Where a chat's answers are announced before the key is sent (the prompt cards)."""

    def answering(self, window_id: WindowId, prompt: PromptInfo, choice: int, by: str) -> None: ...

    def not_answered(self, window_id: WindowId) -> None: ...


class MessageHandler:
    def __init__(
        self,
        *,
        gateway: UnifiedICC,
        replier: Replier,
        audit: AuditLog,
        prompts: PromptAnswers,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._replier = replier
        self._prompts = prompts
        self._audit = audit
        self._clock = clock
        self._sessions = SessionCommands(gateway=gateway)
        self._wizards: dict[tuple[ChannelId, str], WizardState] = {}

    async def handle(self, event: FeishuMessageEvent) -> None:
        text = (event.text or "").strip()
        key = (event.channel_id, event.sender_open_id or "")
        command = text.split(maxsplit=1)[0].lower() if text.startswith("#") else ""
        if key in self._wizards and (not command or command in WIZARD_WORDS):
            await self._wizard_step(event, key, text)
        elif is_number(text) and await self._answer(event, text):
            return
        elif command:
            await self._command(event, command, text[len(command) :].strip())
        else:
            await self._to_agent(event, text)

    # -- routes --------------------------------------------------------------------------------

    async def _to_agent(self, event: FeishuMessageEvent, text: str) -> None:
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            await self._say(event, NO_SESSION)
            return
        audit_event(self._audit, AuditKind.KEYSTROKES, event, text, window)
        try:
            await self._gateway.send_to_window(window, text)
        except UnifiedICCError as exc:
            await self._say(event, f"Not sent: {exc}")

    async def _answer(self, event: FeishuMessageEvent, digits: str) -> bool:
        """Answer the prompt on the bound window's screen; False when there is none."""
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            return False
        status, prompt = self._gateway.status_of(window)
        if status is not AgentStatus.PROMPT or prompt is None:
            return False
        choice = parse_choice(digits)
        if choice is None:
            valid = ", ".join(str(option.number) for option in prompt.options)
            await self._say(event, f"{quoted(digits, limit=12)} is not an option on the "
                                   f"screen; reply with one of {valid}")  # fmt: skip
            return True
        audit_event(self._audit, AuditKind.PROMPT_ANSWER, event, str(choice), window)
        who = "You" if event.chat_type is ChatType.P2P else "Someone in this chat"
        self._prompts.answering(window, prompt, choice, who)
        try:
            answered = await self._gateway.answer_prompt(window, choice)
        except UnifiedICCError as exc:
            self._prompts.not_answered(window)
            await self._say(event, str(exc))
            return True
        label = next((o.label for o in answered.options if o.number == choice), "")
        if asks_for_feedback(label):
            await self._say(event, FEEDBACK.format(choice=choice, label=label))
        return True  # the prompt card shows the choice

    async def _command(self, event: FeishuMessageEvent, command: str, argument: str) -> None:
        audit_event(self._audit, AuditKind.COMMAND, event, f"{command} {argument}".strip())
        channel = event.channel_id
        try:
            answer = await self._run_command(event, command, argument, channel)
        except UnifiedICCError as exc:
            answer = f"{command} failed: {exc}"
        if answer:
            await self._say(event, answer)

    async def _run_command(
        self, event: FeishuMessageEvent, command: str, argument: str, channel: ChannelId
    ) -> str:
        if command == "#help":
            return HELP
        if command == "#new":
            return await self._new(event, argument)
        if command == "#cancel":
            return "There is no #new wizard to cancel."
        if command == "#status":
            return await self._sessions.status(channel)
        if command == "#verbose":
            return self._sessions.verbose(channel, argument)
        if command == "#esc":
            return await self._sessions.escape(channel)
        if command == "#session":
            return await self._sessions.session(channel, argument)
        if command == "#screenshot":
            return await self._screenshot(event)
        return f"Unknown command {shortened(command)}. Send #help for the commands there are."

    async def _screenshot(self, event: FeishuMessageEvent) -> str:
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            return NO_SESSION
        png = await self._gateway.capture_screenshot(window)
        await self._replier.reply_image(event, png)
        return ""

    # -- #new ----------------------------------------------------------------------------------

    async def _new(self, event: FeishuMessageEvent, text: str) -> str:
        closed = await self._gateway.kill_channel_windows(event.channel_id)
        orphans = await self._gateway.list_orphaned_agent_windows()
        notes = []
        if closed:
            notes.append(f"Closed this chat's previous session ({', '.join(closed)}).")
        if orphans:
            notes.append(f"Note: {len(orphans)} agent window(s) in tmux belong to no chat; they "
                         "were left alone (see #session list).")  # fmt: skip
        state, answer = self._wizard().start(text, now=self._clock())
        if isinstance(state, WizardState):
            self._wizards[(event.channel_id, event.sender_open_id or "")] = state
        return "\n".join([*notes, answer])

    async def _wizard_step(
        self, event: FeishuMessageEvent, key: tuple[ChannelId, str], text: str
    ) -> None:
        wizard = self._wizard()
        state = self._wizards[key]
        if wizard.expired(state, now=self._clock()):
            del self._wizards[key]
            await self._say(event, "The #new wizard timed out. Send #new to start again.")
            return
        # The wizard moves on only once a step has an outcome: a failing step leaves it put.
        outcome, answer = wizard.step(state, text, now=self._clock())
        if isinstance(outcome, WizardState):
            self._wizards[key] = outcome
        else:
            del self._wizards[key]
        if answer:
            await self._say(event, answer)
        if isinstance(outcome, Launch):
            await self._launch(event, outcome)

    async def _launch(self, event: FeishuMessageEvent, launch: Launch) -> None:
        detail = f"launch {launch.provider} {launch.mode}"
        audit_event(self._audit, AuditKind.COMMAND, event, detail)
        try:
            window = await self._gateway.create_window(
                launch.path, launch.provider, launch.mode, channel_id=event.channel_id
            )
        except UnifiedICCError as exc:
            await self._say(event, f"Could not start the session: {exc}")
            return
        mode = "standard" if launch.mode == "normal" else launch.mode
        what = launch.provider if launch.provider == "shell" else f"{launch.provider} ({mode})"
        await self._say(event, f"Session started: {what} in {launch.path}, "
                               f"window {window.window_id}. Send text to talk to it.")  # fmt: skip
        if launch.text:
            await self._to_agent(event, launch.text)

    def _wizard(self) -> Wizard:
        providers = [ProviderChoice(name=name, installed=installed)
                     for name, installed in self._gateway.installed_providers()]  # fmt: skip
        workspace = Workspace(self._gateway.config.gateway.workspace_roots)
        return Wizard(workspace=workspace, providers=providers, timeout=WIZARD_TIMEOUT)

    # -- output --------------------------------------------------------------------------------

    async def _say(self, event: FeishuMessageEvent, text: str) -> None:
        await self._replier.reply_text(event, text)


def asks_for_feedback(label: str) -> bool:
    """Whether picking this option means the agent waits for the person's words next."""
    return _FEEDBACK_OPTION.search(label) is not None
