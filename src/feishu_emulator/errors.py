"""The emulator's exceptions, and the refusals it sends over the wire.

Owns what the emulator raises to its own callers (tests, the control API) and the
``OpenApiError`` that the REST layer turns into a Feishu error envelope; knows no HTTP.

    EmulatorError
    ├── UnknownRecordError(LookupError)    no such app, chat, message, thread or event
    ├── EmulatorStateError(RuntimeError)   started twice, used before start or after stop
    └── EmulatorTimeoutError(TimeoutError) a wait_* helper gave up

    OpenApiError   a refusal the emulated platform answers with: HTTP status, Feishu code,
                   msg, extra headers. It never reaches a Python API caller.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "EmulatorError",
    "EmulatorStateError",
    "EmulatorTimeoutError",
    "OpenApiError",
    "UnknownRecordError",
]


class EmulatorError(Exception):
    """Anything the emulator raises to its own caller on purpose."""


class UnknownRecordError(EmulatorError, LookupError):
    """The app, chat, message, thread or event asked for does not exist."""


class EmulatorStateError(EmulatorError, RuntimeError):
    """The emulator was used in a state that does not allow it."""


class EmulatorTimeoutError(EmulatorError, TimeoutError):
    """A condition waited for did not come true in time."""


class OpenApiError(Exception):
    """A refusal answered as ``{code, msg, error}`` with an HTTP status and headers."""

    def __init__(
        self,
        code: int,
        msg: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers: Mapping[str, str] = dict(headers or {})
        # Set for 99992402 "field validation failed" so the envelope can name the field.
        self.field = field
