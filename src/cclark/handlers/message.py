"""MessageHandler: routes one chat message to the wizard, an #ask confirmation, a prompt
answer, a command, the agent, or the orchestrator.

Owns the order of that decision (a message with photos or files goes to ReceivedFiles),
typing into the agent (with a receipt on the message),
answering a prompt with a number (telling the prompt cards first, so the card shows who chose
what), the session list's card and what taps on a session's or a turn's buttons do. The
``#new`` flow is NewSessions', ``#ask`` the Orchestrator's. Calls only the gateway's public
API (never tmux); how output looks is cclark.relay's.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Final, Protocol

from cclark.audit import AuditKind, AuditLog
from cclark.cards.buttons import ButtonStyle, ClickKind, Confirm, button
from cclark.cards.choices_card import SESSIONS_TITLE, choices_card
from cclark.config import FilesSettings
from cclark.event_parsers import ChatType, FeishuMessageEvent
from cclark.handlers.ask import Orchestrator
from cclark.handlers.commands import SessionCommands
from cclark.handlers.dispatch import Receipt, Replier, audit_event
from cclark.handlers.file_requests import requested_file
from cclark.handlers.new_session import NewSessions
from cclark.handlers.received_files import ReceivedFiles
from cclark.handlers.tap_answer import TapAnswer, ToastKind, refused
from cclark.handlers.user_input import is_number, parse_choice, quoted, shortened
from unified_icc import (
    AgentStatus,
    ChannelId,
    PromptInfo,
    UnifiedICC,
    UnifiedICCError,
    WindowId,
    WindowNotFoundError,
    Workspace,
)

__all__ = ["FEEDBACK", "HELP", "MessageHandler", "PromptAnswers", "asks_for_feedback"]

logger = logging.getLogger(__name__)

HELP = """cclark drives AI coding agents running in tmux on your machine.

#new [--idle N] [--timeout N] [text] — start a session: pick a folder, an agent and a mode
  (the text is sent first; --idle: sleep after N idle, --timeout: stop a turn after N;
  N like 90, 10m, 2h)
#resume — start the chat's agent again after it exited, with its conversation
#status — this chat's session: agent, folder, session id, state, mode, limits
#mode [standard|accept-edits|plan|yolo] — show or switch the agent's permission mode
#session list | switch <n> | close <n> — this chat's sessions (and orphaned agent windows)
#screenshot [full] — a picture of the agent's terminal (the part in use; full: all of it)
#get <path> — a file of the session's folder, sent here (not secrets: .env, keys…)
#esc — press Escape in the agent
#ask <text> — ask the orchestrator, in plain words, to start, list, switch, read or close
  this chat's sessions, or to send them text (when it is configured)
#verbose on|off — show thinking and full tool output
#cancel — leave the #new wizard
#help — this message

Any other text goes to the agent. When the agent asks a question with numbered options,
reply with the number."""

NO_SESSION = "This chat has no agent session. Send #new to start one, or #help."
WIZARD_WORDS = ("#select", "#mkdir", "#cancel")
FEEDBACK = ("Chose {choice}. {label} — tell the agent what to change: your next message goes "
            "to it as feedback on the plan.")  # fmt: skip
_FEEDBACK_OPTION: Final = re.compile(
    r"\bkeep planning\b|\bfeedback\b|\btell \w+ what to (?:change|do)", re.IGNORECASE
)


class PromptAnswers(Protocol):
    """Where a chat's answers are announced before the key is sent (the prompt cards)."""

    def answering(self, window_id: WindowId, prompt: PromptInfo, choice: int, by: str) -> None: ...

    def not_answered(self, window_id: WindowId) -> None: ...


# The keys a turn card's buttons press, and what each is called in a toast and the audit.
KEYS: Final = {"esc": "Escape", "ctrl-c": "Ctrl-C", "screenshot": "a screenshot"}


class MessageHandler:
    def __init__(
        self,
        *,
        gateway: UnifiedICC,
        replier: Replier,
        audit: AuditLog,
        prompts: PromptAnswers,
        files: FilesSettings | None = None,
        orchestrator: Orchestrator | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        files = files or FilesSettings()
        self._gateway = gateway
        self._replier = replier
        self._prompts = prompts
        self._audit = audit
        self._clock = clock
        self._sessions = SessionCommands(gateway=gateway)
        self._refuse = files.refuse  # file names #get refuses beyond the built-in ones
        self._received = ReceivedFiles(gateway=gateway, replier=replier, audit=audit,
                                       max_bytes=files.max_receive_mb * 1024 * 1024)  # fmt: skip
        self._new_sessions = NewSessions(gateway=gateway, replier=replier, audit=audit,
                                         to_agent=self._to_agent, clock=clock)  # fmt: skip
        self._ask = orchestrator or Orchestrator(settings=None, model=None, gateway=gateway,
                                                 replier=replier, audit=audit)  # fmt: skip

    async def handle(self, event: FeishuMessageEvent) -> None:
        text = (event.text or "").strip()
        command = text.split(maxsplit=1)[0].lower() if text.startswith("#") else ""
        if event.attachments:  # a photo, a file, a post with images: its text is their caption
            await self._received.deliver(event, text)
        elif self._new_sessions.is_open(event) and (not command or command in WIZARD_WORDS):
            await self._new_sessions.step(event, text)
        elif self._ask.awaits_answer(event, text):
            await self._ask.answer(event, text)
        elif is_number(text) and await self._answer(event, text):
            return
        elif command:
            await self._command(event, command, text[len(command) :].strip())
        else:
            await self._to_agent(event, text)

    # -- routes --------------------------------------------------------------------------------

    async def _to_agent(self, event: FeishuMessageEvent, text: str) -> None:
        """Type text into the chat's agent; the message gets a receipt saying whether it was."""
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None and self._ask.takes_unbound_chats:
            await self._ask.ask(event, text)
            return
        if window is None:
            await self._say(event, NO_SESSION)
            return
        audit_event(self._audit, AuditKind.KEYSTROKES, event, text, window)
        try:
            await self._gateway.send_to_window(window, text)
        except UnifiedICCError as exc:
            await self._receipt(event, Receipt.NOT_TYPED)
            await self._say(event, f"Not sent: {exc}")
            return
        await self._receipt(event, Receipt.TYPED)

    async def _receipt(self, event: FeishuMessageEvent, receipt: Receipt) -> None:
        if event.message_type == "text":  # a person's own message, not a tap on a card
            await self._replier.react(event, receipt)

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
        self._prompts.answering(window, prompt, choice, answerer(event))
        await self.press_option(event, window, choice)
        return True  # the prompt card shows the choice

    async def press_option(self, event: FeishuMessageEvent, window: WindowId, choice: int) -> None:
        """Send the chosen option's key (the prompt cards were told first); say what failed."""
        try:
            answered = await self._gateway.answer_prompt(window, choice)
        except UnifiedICCError as exc:
            self._prompts.not_answered(window)
            await self._say(event, str(exc))
            return
        label = next((o.label for o in answered.options if o.number == choice), "")
        if asks_for_feedback(label):
            await self._say(event, FEEDBACK.format(choice=choice, label=label))

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
            return await self._new_sessions.start(event, argument)
        if command == "#cancel":
            return "There is no #new wizard to cancel."
        if command == "#verbose":
            return self._sessions.verbose(channel, argument)
        if command in ("#status", "#esc", "#resume", "#mode"):
            return await self._session_command(command, channel, argument)
        if command == "#session":
            if argument.split()[:1] in ([], ["list"]):
                return await self._session_list(event)
            return await self._sessions.session(channel, argument)
        if command == "#screenshot":
            return await self._screenshot(event, argument.lower())
        if command == "#get":
            return await self._get(event, argument)
        if command == "#ask":
            await self._ask.ask(event, argument)
            return ""
        return f"Unknown command {shortened(command)}. Send #help for the commands there are."

    async def _session_command(self, command: str, channel: ChannelId, argument: str) -> str:
        if command == "#status":
            return await self._sessions.status(channel)
        if command == "#esc":
            return await self._sessions.escape(channel)
        if command == "#resume":
            return await self._sessions.resume(channel)
        return await self._sessions.mode(channel, argument)

    async def _session_list(self, event: FeishuMessageEvent) -> str:
        """The list as a card: a Switch button per session the chat does not talk to, and a
        Close button (asked again before it is sent) per session of its own."""
        entries, text = await self._sessions.listing(event.channel_id)
        if not entries:
            return text
        buttons = []
        for number, entry in enumerate(entries, 1):
            value = {"k": ClickKind.SESSION.value, "c": event.channel_id, "w": entry.window_id}
            if not entry.current:
                buttons.append(button(f"Switch to {number}", {**value, "op": "switch"}))
            if not entry.orphan:
                ask = Confirm(
                    title=f"Close session {number}?",
                    text=f"This stops window {entry.window_id}: {entry.label}",
                )
                buttons.append(button(f"Close {number}", {**value, "op": "close"},
                                      style=ButtonStyle.DANGER, confirm=ask))  # fmt: skip
        card = choices_card(title=SESSIONS_TITLE, text=text, buttons=buttons)
        await self._replier.reply_card(event, f"sessions:{secrets.token_hex(6)}", card)
        return ""

    def tap_session(self, event: FeishuMessageEvent, action: str, window: WindowId) -> TapAnswer:
        """A tap on Switch or Close of the session list, or on Resume of an exit's card: the
        same as #session switch/close or #resume, for the window the button names (still the
        chat's, as found when the work runs)."""
        if action not in ("switch", "close", "resume"):
            return refused("That button is not one this bot made.")
        if action != "switch" and not self.owns(event.channel_id, window, ended=True):
            return refused(f"Window {window} is not this chat's session: it was left alone.")
        audit_event(self._audit, AuditKind.COMMAND, event, f"#session {action} {window} (button)")

        async def act() -> None:
            answer = await self._sessions.act_on(event.channel_id, action, window)
            if answer:
                await self._say(event, answer)

        verb = {"switch": "Switching to", "close": "Closing", "resume": "Resuming"}[action]
        return TapAnswer(kind=ToastKind.INFO, toast=f"{verb} window {window}…", job=act)

    def tap_key(self, event: FeishuMessageEvent, window: WindowId, key: str) -> TapAnswer:
        """A tap on a turn card's Esc, Ctrl-C or Screenshot, for that card's window."""
        name = KEYS.get(key)
        if name is None:
            return refused("That button is not one this bot made.")
        if not self.owns(event.channel_id, window):
            return refused(f"Window {window} is gone or not this chat's: nothing was sent.")
        if key != "screenshot":
            audit_event(self._audit, AuditKind.KEYSTROKES, event, f"<{name}> (button)", window)

        async def press() -> None:
            try:
                if key == "screenshot":
                    png = await self._gateway.capture_screenshot(window)
                    await self._replier.reply_image(event, png)
                elif key == "esc":
                    await self._say(event, await self._sessions.escape_window(window))
                else:
                    await self._gateway.send_key(window, "C-c")
            except UnifiedICCError as exc:
                await self._say(event, f"Could not send {name}: {exc}")

        verb = "Taking" if key == "screenshot" else "Sending"
        return TapAnswer(kind=ToastKind.INFO, toast=f"{verb} {name}…", job=press)

    def owns(self, channel: ChannelId, window: WindowId, *, ended: bool = False) -> bool:
        """Whether window is one of the chat's own live sessions (or ended ones too)."""
        try:
            info = self._gateway.window_info(window)
        except WindowNotFoundError:
            return False
        return info.channel_id == channel and (ended or not info.dead)

    async def _get(self, event: FeishuMessageEvent, argument: str) -> str:
        """Send a file of the session's folder (see file_requests for what is refused)."""
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            return NO_SESSION
        folder = self._gateway.window_info(window).cwd
        workspace = Workspace(self._gateway.config.gateway.workspace_roots)
        found = requested_file(argument, folder=folder, workspace=workspace, refuse=self._refuse)
        if isinstance(found, str):
            return found
        if found.image:
            await self._replier.reply_image(event, found.data)
        else:
            await self._replier.reply_file(event, found.data, found.name)
        return ""

    async def _screenshot(self, event: FeishuMessageEvent, argument: str) -> str:
        if argument not in ("", "full"):
            return "Send #screenshot (the part of the screen in use) or #screenshot full."
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            return NO_SESSION
        png = await self._gateway.capture_screenshot(window, full=argument == "full")
        await self._replier.reply_image(event, png)
        return ""

    def tap_confirm(self, event: FeishuMessageEvent, confirmation_id: str, op: str) -> TapAnswer:
        """A tap on Yes or No of a question #ask asked (see Orchestrator.tap)."""
        return self._ask.tap(event, confirmation_id, op)

    # -- #new ----------------------------------------------------------------------------------

    def tap_wizard(
        self, event: FeishuMessageEvent, wizard_id: str, step: int, say: str
    ) -> TapAnswer:
        """A tap on a #new step's button (see NewSessions.tap)."""
        return self._new_sessions.tap(event, wizard_id, step, say)

    # -- output --------------------------------------------------------------------------------

    async def _say(self, event: FeishuMessageEvent, text: str) -> None:
        await self._replier.reply_text(event, text)


def answerer(event: FeishuMessageEvent) -> str:
    """Who a card says answered: the reader in a one-to-one chat, someone in a group."""
    return "You" if event.chat_type is ChatType.P2P else "Someone in this chat"


def asks_for_feedback(label: str) -> bool:
    """Whether picking this option means the agent waits for the person's words next."""
    return _FEEDBACK_OPTION.search(label) is not None
