"""The #ask orchestrator's view of its model: one chat completion with tool calls.

Owns the shape of what is sent (OpenAI chat messages and function tools, as plain JSON) and
of what comes back (``ModelTurn``: text, or tool calls with their raw arguments), and the
``ChatModel`` protocol the orchestrator calls. Knows no SDK (``openai_model`` is the one that
speaks to an endpoint) and nothing of chats or tools.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ChatModel", "ModelTurn", "ToolCall", "WireMessage"]

# One chat message as the chat-completions API takes it ({"role": …, "content": …, …}).
WireMessage = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A function the model asked to call; ``arguments`` is its JSON text, unchecked."""

    id: str
    name: str
    arguments: str

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.arguments}}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelTurn:
    """One answer of the model: words for the person, or tool calls to make first."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()

    def wire(self) -> dict[str, Any]:
        """The answer as the assistant message the next request repeats."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [call.wire() for call in self.tool_calls]
        return message


class ChatModel(Protocol):
    """An OpenAI-compatible chat-completions endpoint."""

    async def complete(
        self, messages: Sequence[WireMessage], tools: Sequence[Mapping[str, Any]]
    ) -> ModelTurn:
        """The model's next turn. Raises: cclark.errors.OrchestratorError (and subclasses),
        whose message the chat is told."""
        ...

    async def close(self) -> None: ...
