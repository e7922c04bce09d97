"""Typed, immutable events the gateway emits, and the closed sets they use.

Owns the event dataclasses and enums; knows nothing of how events are produced or delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from unified_icc.ids import ChannelId, SessionId, WindowId

__all__ = [
    "AgentMessage",
    "AgentMessageEvent",
    "AgentStatus",
    "ApiProblem",
    "GatewayEvent",
    "MessageKind",
    "MessageRole",
    "PromptInfo",
    "PromptKind",
    "PromptOption",
    "StatusEvent",
    "WindowChange",
    "WindowEvent",
]


class AgentStatus(StrEnum):
    IDLE = "idle"
    WORKING = "working"
    PROMPT = "prompt"
    DEAD = "dead"


class WindowChange(StrEnum):
    CREATED = "created"
    CLOSED = "closed"
    DIED = "died"
    ADOPTED = "adopted"
    ASLEEP = "asleep"  # stopped for idleness; the next message resumes it
    RESUMED = "resumed"  # the agent runs again in its window, its session resumed
    TURN_TIMED_OUT = "turn_timed_out"  # a turn ran past its limit and was interrupted
    STALLED = "stalled"  # a turn has shown no new output for gateway.stall_notice (once)


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class MessageKind(StrEnum):
    TEXT = "text"
    THINKING = "thinking"
    TOOL_USE = "tool_use"
    TOOL_RESULT = "tool_result"
    LOCAL_COMMAND = "local_command"
    OUTPUT = "output"  # a plain shell's terminal output, one line per message before merging
    INTERRUPT = "interrupt"  # the person stopped the turn (Escape, or refused a tool): it is over
    API_ERROR = "api_error"  # the model API refused the turn (see ApiProblem): it is over


class ApiProblem(StrEnum):
    """Why the model API refused a turn, as the CLI reported it."""

    RATE_LIMIT = "rate_limit"  # too many requests for now (429)
    USAGE_LIMIT = "usage_limit"  # the plan's or account's quota is spent until a reset
    AUTH = "auth"  # credentials missing, expired or refused (401, 403, "run /login")
    OVERLOADED = "overloaded"  # the provider's servers are overloaded (529, 503)
    OTHER = "other"


class PromptKind(StrEnum):
    PERMISSION = "permission"
    PLAN = "plan"
    QUESTION = "question"
    TRUST = "trust"
    LIMIT = "limit"  # the CLI hit a usage limit and asks whether to keep trying
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentMessage:
    """One entry of an agent's transcript, in the terms a chat shows."""

    id: str
    role: MessageRole
    kind: MessageKind
    text: str
    tool_name: str | None = None
    tool_id: str | None = None
    problem: ApiProblem | None = None  # set on API_ERROR messages


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentMessageEvent:
    """New transcript entries of one window, in order, from one read."""

    window_id: WindowId
    session_id: SessionId | None
    channel_ids: tuple[ChannelId, ...]
    messages: tuple[AgentMessage, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptOption:
    number: int
    label: str
    selected: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptInfo:
    """A question the agent's screen is asking, with its numbered options."""

    kind: PromptKind
    title: str
    body: str
    options: tuple[PromptOption, ...]
    raw: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent:
    """What a window's screen says now, reported when it changes.

    IDLE and PROMPT come after every transcript message written before the screen changed.
    turn_ended marks the IDLE that ends the agent's turn: for an agent with a Stop hook
    (Claude, Codex) the IDLE seen after that hook, reported even when the status did not change
    (a quick turn may never have been seen working); for the others every change to IDLE. An
    idle screen between two steps of a turn is not its end.
    """

    window_id: WindowId
    channel_ids: tuple[ChannelId, ...]
    status: AgentStatus
    prompt: PromptInfo | None = None
    exit_status: int | None = None
    turn_ended: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowEvent:
    window_id: WindowId
    kind: WindowChange
    channel_ids: tuple[ChannelId, ...] = ()
    provider: str | None = None
    exit_status: int | None = None
    reason: str = ""


GatewayEvent = AgentMessageEvent | StatusEvent | WindowEvent
