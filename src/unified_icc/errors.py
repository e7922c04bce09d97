"""The gateway's exception tree.

Owns every exception unified_icc raises on purpose; knows nothing of tmux or providers' internals.

    UnifiedICCError
    ├── ConfigError(ValueError)               config.yaml is unreadable or invalid
    ├── StateError                            state.json cannot be written
    ├── GatewayBusyError(RuntimeError)        another gateway holds the state folder
    ├── GatewayStateError(RuntimeError)       start/stop used in the wrong order
    ├── TmuxError                             a tmux command failed (carries the subcommand)
    │   ├── TmuxUnavailableError              tmux is not installed or its server is unreachable
    │   └── TmuxTimeoutError(TimeoutError)    a tmux command did not answer in time
    ├── WindowError                           carries window_id
    │   ├── WindowNotFoundError(LookupError)  no window of ours with that id
    │   ├── WindowDeadError                   the agent in that window has exited
    │   ├── WindowRunningError                the agent runs: there is nothing to resume
    │   ├── WindowBusyError                   a turn or a question is on: the action must wait
    │   └── WindowOwnershipError(PermissionError)  the window belongs to another channel
    ├── ProviderError                         carries provider
    │   ├── UnknownProviderError(ValueError)
    │   ├── UnsupportedModeError(ValueError)
    │   └── ProviderNotInstalledError(LookupError)
    ├── PromptError                           carries window_id
    │   ├── NoPromptError(LookupError)        no prompt is on the screen to answer
    │   ├── InvalidOptionError(ValueError)    the option is not on screen (carries the valid ones)
    │   ├── PromptPendingError                text was sent while a prompt waits for an answer
    │   └── PromptStuckError(TimeoutError)    the prompt did not leave the screen after the answer
    ├── PathRejectedError(ValueError)         a working directory that may not be used
    └── InputRejectedError(ValueError)        text or a key that cannot be sent
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GatewayBusyError",
    "GatewayStateError",
    "InputRejectedError",
    "InvalidOptionError",
    "NoPromptError",
    "PathRejectedError",
    "PromptError",
    "PromptPendingError",
    "PromptStuckError",
    "ProviderError",
    "ProviderNotInstalledError",
    "StateError",
    "TmuxError",
    "TmuxTimeoutError",
    "TmuxUnavailableError",
    "UnifiedICCError",
    "UnknownProviderError",
    "UnsupportedModeError",
    "WindowBusyError",
    "WindowDeadError",
    "WindowError",
    "WindowNotFoundError",
    "WindowOwnershipError",
    "WindowRunningError",
]


class UnifiedICCError(Exception):
    """Anything the gateway raises on purpose; the message tells the user what to do."""


class ConfigError(UnifiedICCError, ValueError):
    """The configuration file cannot be used."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.key = key


class StateError(UnifiedICCError):
    """state.json could not be written."""


class GatewayBusyError(UnifiedICCError, RuntimeError):
    """Another gateway process owns the state folder."""


class GatewayStateError(UnifiedICCError, RuntimeError):
    """A lifecycle call made in the wrong state (e.g. create_window before start)."""


class TmuxError(UnifiedICCError):
    """A tmux command failed."""

    def __init__(self, message: str, *, subcommand: str | None = None) -> None:
        super().__init__(message)
        self.subcommand = subcommand


class TmuxUnavailableError(TmuxError):
    """tmux is missing, or its server is not reachable."""


class TmuxTimeoutError(TmuxError, TimeoutError):
    """A tmux command did not answer within the configured timeout."""


class WindowError(UnifiedICCError):
    """A problem with one agent window."""

    def __init__(self, message: str, *, window_id: str) -> None:
        super().__init__(message)
        self.window_id = window_id


class WindowNotFoundError(WindowError, LookupError):
    """No window of this gateway has that id (never created, killed, or gone with tmux)."""


class WindowDeadError(WindowError):
    """The agent in the window has exited; the pane is kept so its last screen can be read."""

    def __init__(self, message: str, *, window_id: str, exit_status: int | None) -> None:
        super().__init__(message, window_id=window_id)
        self.exit_status = exit_status


class WindowRunningError(WindowError):
    """The agent in the window is running: there is nothing to resume."""


class WindowBusyError(WindowError):
    """The agent is in a turn, asks something, or holds unsent text: the action must wait."""


class WindowOwnershipError(WindowError, PermissionError):
    """The window belongs to another channel."""


class ProviderError(UnifiedICCError):
    """A problem with an agent provider."""

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message)
        self.provider = provider


class UnknownProviderError(ProviderError, ValueError):
    """No provider has that name."""


class UnsupportedModeError(ProviderError, ValueError):
    """The provider does not run in that mode."""


class ProviderNotInstalledError(ProviderError, LookupError):
    """The provider's executable is not on PATH."""


class PathRejectedError(UnifiedICCError, ValueError):
    """A working directory that does not exist, is not a directory, or lies outside the roots."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class InputRejectedError(UnifiedICCError, ValueError):
    """Text or a key that the gateway will not send."""


class PromptError(WindowError):
    """A problem answering a prompt on an agent's screen."""


class NoPromptError(PromptError, LookupError):
    """There is no prompt on the screen to answer."""


class InvalidOptionError(PromptError, ValueError):
    """The chosen option is not one the prompt offers."""

    def __init__(self, message: str, *, window_id: str, valid: tuple[int, ...]) -> None:
        super().__init__(message, window_id=window_id)
        self.valid = valid


class PromptStuckError(PromptError, TimeoutError):
    """The answer was sent but the prompt stayed on the screen."""


class PromptPendingError(PromptError):
    """Text was sent while the agent waits for an answer to the prompt on its screen."""
