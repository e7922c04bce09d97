"""The bot's exception tree.

Owns every exception cclark raises on purpose; gateway errors stay UnifiedICCError.
lark-oapi failures never leave ``feishu_client``: they arrive here as FeishuApiError.

    CclarkError
    ├── CclarkConfigError(ValueError)   the feishu/health sections cannot be used
    ├── FeishuApiError                  a Feishu REST call failed: code, msg, log_id, http_status
    │   ├── FeishuRateLimited           still throttled after our retries: + retry_after
    │   ├── FeishuAuthError             token could not be fetched or was rejected
    │   └── FeishuPermissionError       the app lacks a scope (99991672): + scopes
    ├── TopicRootUnknownError(LookupError)  no root message known to reply under in a topic
    └── OrchestratorError               the #ask model endpoint failed (any other status, no
        │                               connection, an answer that is no chat completion)
        ├── OrchestratorTimeout         it did not answer within orchestrator.timeout
        ├── OrchestratorAuthError       it refused the key (401, 403)
        └── OrchestratorRateLimited     it throttled or its quota is spent (429)
"""

from __future__ import annotations

__all__ = [
    "CclarkConfigError",
    "CclarkError",
    "FeishuApiError",
    "FeishuAuthError",
    "FeishuPermissionError",
    "FeishuRateLimited",
    "OrchestratorAuthError",
    "OrchestratorError",
    "OrchestratorRateLimited",
    "OrchestratorTimeout",
    "TopicRootUnknownError",
]


class CclarkError(Exception):
    """Anything the bot raises on purpose; the message tells the user what to do."""


class CclarkConfigError(CclarkError, ValueError):
    """The bot's configuration cannot be used."""


class FeishuApiError(CclarkError):
    """A Feishu Open Platform call failed, after any retries.

    Attributes:
        code: Feishu's error code from the response body; None when no body could be read
            (network error, timeout, a non-JSON page from a proxy).
        msg: Feishu's message, or a description of the transport failure.
        log_id: the request's log id (``X-Tt-Logid``) for Feishu support, when known.
        http_status: the HTTP status, when a response arrived.
    """

    def __init__(
        self,
        *,
        code: int | None,
        msg: str,
        log_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.code = code
        self.msg = msg
        self.log_id = log_id
        self.http_status = http_status
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"http {self.http_status}" if self.http_status is not None else "no response"
        code = "no code" if self.code is None else f"code {self.code}"
        return f"Feishu API error ({code}, {where}, log_id {self.log_id or '-'}): {self.msg}"


class FeishuRateLimited(FeishuApiError):
    """Feishu kept throttling (429/99991400, 230020, 11232) beyond our retry budget.

    Attributes:
        retry_after: seconds to wait before trying again (from ``x-ogw-ratelimit-reset`` when
            Feishu sent it, otherwise our next back-off delay).
    """

    def __init__(
        self,
        *,
        code: int | None,
        msg: str,
        retry_after: float,
        log_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(code=code, msg=msg, log_id=log_id, http_status=http_status)


class FeishuAuthError(FeishuApiError):
    """The tenant access token could not be fetched, or was rejected even after a refetch."""


class FeishuPermissionError(FeishuApiError):
    """The app was not granted a scope the call needs (code 99991672); never retried.

    Catch it to fall back (e.g. from CardKit streaming to patching a card). Not a
    PermissionError: that is an OSError, and handlers of I/O errors must not swallow it.

    Attributes:
        scopes: the scopes Feishu named; any one of them lets the call through.
    """

    def __init__(
        self,
        *,
        code: int | None,
        msg: str,
        scopes: tuple[str, ...] = (),
        log_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.scopes = scopes
        super().__init__(code=code, msg=msg, log_id=log_id, http_status=http_status)

    def _describe(self) -> str:
        wanted = " or ".join(self.scopes) or "the scope named below"
        return (
            f"the Feishu app lacks the permission {wanted}: add it in the developer console "
            "(open.feishu.cn/app, your app, Permissions & Scopes) and publish a new app "
            f"version. {super()._describe()}"
        )


class TopicRootUnknownError(CclarkError, LookupError):
    """A topic channel was addressed before any root message of that topic was seen.

    Attributes:
        channel_id: the topic channel.
    """

    def __init__(self, channel_id: str) -> None:
        self.channel_id = channel_id
        super().__init__(
            f"no root message known for topic channel {channel_id}: replies in a topic go "
            "under its root message, which the adapter learns from inbound messages"
        )


class OrchestratorError(CclarkError):
    """The #ask orchestrator's model endpoint failed; the message is said to the chat as is."""


class OrchestratorTimeout(OrchestratorError):
    """The model endpoint did not answer within orchestrator.timeout (after the SDK's retries)."""


class OrchestratorAuthError(OrchestratorError):
    """The model endpoint refused orchestrator.api_key (401) or the key's rights (403)."""


class OrchestratorRateLimited(OrchestratorError):
    """The model endpoint kept answering 429: too many requests, or the quota is spent."""
