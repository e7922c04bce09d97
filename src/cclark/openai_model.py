"""OpenAIChatModel: the #ask model endpoint through the official ``openai`` SDK.

Owns the SDK client (base_url, key, timeout, retries from the orchestrator section) and
turning its answers and failures into ``ModelTurn`` and ``OrchestratorError`` with words a
person can act on. The key is given to the SDK only: no message here ever holds it.
Imported only when the orchestrator is configured (the SDK costs start-up time).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import openai

from cclark.ask_model import ModelTurn, ToolCall, WireMessage
from cclark.config import OrchestratorSettings
from cclark.errors import (
    OrchestratorAuthError,
    OrchestratorError,
    OrchestratorRateLimited,
    OrchestratorTimeout,
)

__all__ = ["OpenAIChatModel"]

logger = logging.getLogger(__name__)

_DETAIL_CHARS = 200
# An endpoint that wants no key still gets an Authorization header from the SDK.
_NO_KEY = "no-key"


class OpenAIChatModel:
    def __init__(self, settings: OrchestratorSettings) -> None:
        self._settings = settings
        self._key = settings.api_key.get_secret_value()
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=self._key or _NO_KEY,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )

    async def complete(
        self, messages: Sequence[WireMessage], tools: Sequence[Mapping[str, Any]]
    ) -> ModelTurn:
        try:
            # The messages and tools are plain JSON of the documented shapes (ask_model).
            answer = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self._settings.model,
                messages=list(messages),
                tools=list(tools),
                tool_choice="auto",
            )
        except openai.OpenAIError as exc:
            raise self._explain(exc) from None
        if not answer.choices:
            raise OrchestratorError(f"{self._where()} answered with no choices: ask again.")
        message = answer.choices[0].message
        calls = tuple(
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments)
            for call in message.tool_calls or ()
            if call.type == "function"
        )
        return ModelTurn(text=(message.content or "").strip(), tool_calls=calls)

    async def close(self) -> None:
        await self._client.close()

    def _explain(self, exc: openai.OpenAIError) -> OrchestratorError:
        """The failure in a person's words (the endpoint's own words kept, minus the key)."""
        where, settings = self._where(), self._settings
        if isinstance(exc, openai.APITimeoutError):
            return OrchestratorTimeout(
                f"{where} did not answer within {settings.timeout:g} s. Ask again later, or "
                "raise orchestrator.timeout in config.yaml.")  # fmt: skip
        if isinstance(exc, openai.APIConnectionError):
            return OrchestratorError(f"Cannot reach {where}: {self._detail(exc)}. Is the "
                                     "endpoint up, and orchestrator.base_url right?")  # fmt: skip
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return OrchestratorAuthError(
                f"{where} refused the key (HTTP {exc.status_code}): check orchestrator.api_key "
                "in config.yaml, then restart cclark.")  # fmt: skip
        if isinstance(exc, openai.RateLimitError):
            return OrchestratorRateLimited(
                f"{where} is rate-limiting these requests or the quota is spent (HTTP 429: "
                f"{self._detail(exc)}). Wait a little and ask again.")  # fmt: skip
        if isinstance(exc, openai.APIStatusError):
            return OrchestratorError(f"{where} answered HTTP {exc.status_code}: "
                                     f"{self._detail(exc)}")  # fmt: skip
        logger.warning("the orchestrator's model answered something unreadable: %s",
                       type(exc).__name__)  # fmt: skip
        return OrchestratorError(f"{where} answered something that is not a chat completion: "
                                 "is orchestrator.base_url an OpenAI-compatible API?")  # fmt: skip

    def _where(self) -> str:
        host = urlsplit(self._settings.base_url).netloc or self._settings.base_url
        return f"The orchestrator's model ({self._settings.model} at {host})"

    def _detail(self, exc: openai.OpenAIError) -> str:
        body = getattr(exc, "body", None)
        if isinstance(body, Mapping) and isinstance(body.get("message"), str):
            text = body["message"]
        else:
            text = str(getattr(exc, "message", "") or exc)
        if self._key:
            text = text.replace(self._key, "***")
        text = " ".join(text.split())
        return text[:_DETAIL_CHARS] or type(exc).__name__
