"""What a chat is told when its agent's process changes: it exited, went, slept, woke, a turn
was stopped for running too long, or a turn has shown nothing new for a while.

Owns the wording of those notices and the Resume button of an exit's card. Pure: the relay
decides where they go and records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cclark.cards.buttons import ButtonStyle, ClickKind, button
from cclark.cards.choices_card import ENDED_TITLE, choices_card
from cclark.cards.elements import CardJson
from unified_icc import ChannelId, WindowChange, WindowEvent

__all__ = ["GONE", "STALLED_TITLE", "Notice", "ended_card", "lifecycle_notice", "stalled_card"]

STALLED_TITLE: Final = "⏳ No new output"
GONE: Final = ("The agent's window is gone (closed outside cclark, or tmux stopped). "
               "Send #new to start a new session.")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A line for the chat, or a card when it offers buttons."""

    text: str = ""
    card: CardJson | None = None


def lifecycle_notice(
    event: WindowEvent, channel: ChannelId, *, title: str, recorded: bool
) -> Notice | None:
    """The notice for a window event (None: nothing to say). ``recorded``: the gateway
    still knows the window (an exited agent can be resumed; a vanished window cannot)."""
    if event.kind is WindowChange.DIED:
        if not recorded:
            return Notice(text=GONE)
        return Notice(card=ended_card(event, channel, title=title))
    if event.kind is WindowChange.ASLEEP:
        return Notice(text=f"💤 {title} is asleep ({event.reason}). Its conversation is kept: "
                           "your next message wakes it.")  # fmt: skip
    if event.kind is WindowChange.RESUMED:
        return Notice(text=f"▶️ {title} is running again: {event.reason}.")
    if event.kind is WindowChange.STALLED:
        return Notice(card=stalled_card(event, channel, title=title))
    if event.kind is WindowChange.TURN_TIMED_OUT:
        return Notice(text=f"⏱ Interrupted: {event.reason}. Send a message to go on, or "
                           "#new --timeout N for a longer limit.")  # fmt: skip
    return None


def stalled_card(event: WindowEvent, channel: ChannelId, *, title: str) -> CardJson:
    """A turn that shows nothing new: what it may be, with Screenshot and Esc buttons."""
    text = (f"{title} has shown {event.reason}. It may be running a long command, or its "
            "model API may be refusing (overloaded, rate limited) while the CLI keeps "
            "retrying. The turn goes on: Screenshot shows the terminal, Esc stops the "
            "turn.")  # fmt: skip
    value = {"k": ClickKind.KEY.value, "c": channel, "w": event.window_id}
    buttons = [button("Screenshot", {**value, "key": "screenshot"}),
               button("Esc", {**value, "key": "esc"})]  # fmt: skip
    return choices_card(title=STALLED_TITLE, text=text, buttons=buttons)


def ended_card(event: WindowEvent, channel: ChannelId, *, title: str) -> CardJson:
    """An exit's card: what happened, and a Resume button."""
    status = f" (status {event.exit_status})" if event.exit_status is not None else ""
    text = (f"{title}: the agent has exited{status}. Tap Resume or send #resume to continue "
            "this conversation; #new starts a new session.")  # fmt: skip
    value = {"k": ClickKind.SESSION.value, "c": channel, "w": event.window_id, "op": "resume"}
    resume = button("▶️ Resume", value, style=ButtonStyle.PRIMARY)
    return choices_card(title=ENDED_TITLE, text=text, buttons=[resume])
