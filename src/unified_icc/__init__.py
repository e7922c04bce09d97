"""unified_icc: the gateway that runs AI coding CLIs in tmux windows and reports what they do.

The public API is what this module exports; frontends import only from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unified_icc.config import (
        Config,
        GatewaySettings,
        ProviderSettings,
        ProvidersSettings,
        load_config,
        resolve_config_dir,
    )
    from unified_icc.errors import (
        ConfigError,
        GatewayBusyError,
        GatewayStateError,
        InputRejectedError,
        InvalidOptionError,
        NoPromptError,
        PathRejectedError,
        PromptError,
        PromptPendingError,
        PromptStuckError,
        ProviderError,
        ProviderNotInstalledError,
        StateError,
        TmuxError,
        TmuxTimeoutError,
        TmuxUnavailableError,
        UnifiedICCError,
        UnknownProviderError,
        UnsupportedModeError,
        WindowBusyError,
        WindowDeadError,
        WindowError,
        WindowNotFoundError,
        WindowOwnershipError,
        WindowRunningError,
    )
    from unified_icc.events import (
        AgentMessage,
        AgentMessageEvent,
        AgentStatus,
        ApiProblem,
        GatewayEvent,
        MessageKind,
        MessageRole,
        PromptInfo,
        PromptKind,
        PromptOption,
        StatusEvent,
        WindowChange,
        WindowEvent,
    )
    from unified_icc.gateway import UnifiedICC
    from unified_icc.ids import ChannelId, SessionId, WindowId, parse_channel_id, parse_window_id
    from unified_icc.journal import Batch, Journal, Write
    from unified_icc.private_files import write_private_file
    from unified_icc.session_timers import describe_seconds
    from unified_icc.smoke_tests import SmokeResult
    from unified_icc.timing import Clock, SystemClock
    from unified_icc.window_views import OrphanWindow, Survey, SurveyRow, WindowInfo
    from unified_icc.workspace import Workspace

__all__ = [
    "AgentMessage",
    "AgentMessageEvent",
    "AgentStatus",
    "ApiProblem",
    "Batch",
    "ChannelId",
    "Clock",
    "Config",
    "ConfigError",
    "GatewayBusyError",
    "GatewayEvent",
    "GatewaySettings",
    "GatewayStateError",
    "InputRejectedError",
    "InvalidOptionError",
    "Journal",
    "MessageKind",
    "MessageRole",
    "NoPromptError",
    "OrphanWindow",
    "PathRejectedError",
    "PromptError",
    "PromptInfo",
    "PromptKind",
    "PromptOption",
    "PromptPendingError",
    "PromptStuckError",
    "ProviderError",
    "ProviderNotInstalledError",
    "ProviderSettings",
    "ProvidersSettings",
    "SessionId",
    "SmokeResult",
    "StateError",
    "StatusEvent",
    "Survey",
    "SurveyRow",
    "SystemClock",
    "TmuxError",
    "TmuxTimeoutError",
    "TmuxUnavailableError",
    "UnifiedICC",
    "UnifiedICCError",
    "UnknownProviderError",
    "UnsupportedModeError",
    "WindowBusyError",
    "WindowChange",
    "WindowDeadError",
    "WindowError",
    "WindowEvent",
    "WindowId",
    "WindowInfo",
    "WindowNotFoundError",
    "WindowOwnershipError",
    "WindowRunningError",
    "Workspace",
    "Write",
    "describe_seconds",
    "load_config",
    "parse_channel_id",
    "parse_window_id",
    "resolve_config_dir",
    "write_private_file",
]

# Names load on first use, so ``python -m unified_icc.hook`` (run inside every agent hook)
# does not pay for importing the whole gateway.
_EXPORTS = {
    "AgentMessage": "unified_icc.events",
    "AgentMessageEvent": "unified_icc.events",
    "AgentStatus": "unified_icc.events",
    "ApiProblem": "unified_icc.events",
    "ChannelId": "unified_icc.ids",
    "Config": "unified_icc.config",
    "ConfigError": "unified_icc.errors",
    "GatewayBusyError": "unified_icc.errors",
    "GatewayEvent": "unified_icc.events",
    "GatewaySettings": "unified_icc.config",
    "GatewayStateError": "unified_icc.errors",
    "InputRejectedError": "unified_icc.errors",
    "InvalidOptionError": "unified_icc.errors",
    "MessageKind": "unified_icc.events",
    "MessageRole": "unified_icc.events",
    "NoPromptError": "unified_icc.errors",
    "OrphanWindow": "unified_icc.window_views",
    "PathRejectedError": "unified_icc.errors",
    "PromptInfo": "unified_icc.events",
    "PromptError": "unified_icc.errors",
    "PromptKind": "unified_icc.events",
    "PromptOption": "unified_icc.events",
    "PromptPendingError": "unified_icc.errors",
    "PromptStuckError": "unified_icc.errors",
    "ProviderError": "unified_icc.errors",
    "ProviderNotInstalledError": "unified_icc.errors",
    "ProviderSettings": "unified_icc.config",
    "ProvidersSettings": "unified_icc.config",
    "SessionId": "unified_icc.ids",
    "StateError": "unified_icc.errors",
    "Batch": "unified_icc.journal",
    "Journal": "unified_icc.journal",
    "Write": "unified_icc.journal",
    "write_private_file": "unified_icc.private_files",
    "describe_seconds": "unified_icc.session_timers",
    "SmokeResult": "unified_icc.smoke_tests",
    "Clock": "unified_icc.timing",
    "SystemClock": "unified_icc.timing",
    "StatusEvent": "unified_icc.events",
    "Survey": "unified_icc.window_views",
    "SurveyRow": "unified_icc.window_views",
    "TmuxError": "unified_icc.errors",
    "TmuxTimeoutError": "unified_icc.errors",
    "TmuxUnavailableError": "unified_icc.errors",
    "UnifiedICC": "unified_icc.gateway",
    "UnifiedICCError": "unified_icc.errors",
    "UnknownProviderError": "unified_icc.errors",
    "UnsupportedModeError": "unified_icc.errors",
    "WindowChange": "unified_icc.events",
    "WindowBusyError": "unified_icc.errors",
    "WindowDeadError": "unified_icc.errors",
    "WindowError": "unified_icc.errors",
    "WindowEvent": "unified_icc.events",
    "WindowId": "unified_icc.ids",
    "WindowInfo": "unified_icc.window_views",
    "WindowNotFoundError": "unified_icc.errors",
    "WindowOwnershipError": "unified_icc.errors",
    "WindowRunningError": "unified_icc.errors",
    "Workspace": "unified_icc.workspace",
    "load_config": "unified_icc.config",
    "parse_channel_id": "unified_icc.ids",
    "parse_window_id": "unified_icc.ids",
    "resolve_config_dir": "unified_icc.config",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'unified_icc' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
