"""The gateway's public API is curated and pinned; the bot imports only from it."""

from __future__ import annotations

import unified_icc

PINNED = [
    "AgentMessage", "AgentMessageEvent", "AgentStatus", "ApiProblem", "Batch", "ChannelId", "Clock",
    "Config",
    "ConfigError", "GatewayBusyError", "GatewayEvent", "GatewaySettings", "GatewayStateError",
    "InputRejectedError", "InvalidOptionError", "Journal", "MessageKind", "MessageRole",
    "NoPromptError", "OrphanWindow", "PathRejectedError", "PromptError", "PromptInfo",
    "PromptKind", "PromptOption", "PromptPendingError", "PromptStuckError", "ProviderError",
    "ProviderNotInstalledError", "ProviderSettings", "ProvidersSettings", "SessionId",
    "SmokeResult", "StateError", "StatusEvent", "Survey", "SurveyRow", "SystemClock", "TmuxError",
    "TmuxTimeoutError", "TmuxUnavailableError", "UnifiedICC", "UnifiedICCError",
    "UnknownProviderError", "UnsupportedModeError", "WindowBusyError", "WindowChange",
    "WindowDeadError",
    "WindowError", "WindowEvent", "WindowId", "WindowInfo", "WindowNotFoundError",
    "WindowOwnershipError", "WindowRunningError", "Workspace", "Write", "describe_seconds",
    "load_config", "parse_channel_id", "parse_window_id", "resolve_config_dir",
    "write_private_file",
]  # fmt: skip


def test_public_api_is_pinned_and_sorted() -> None:
    assert unified_icc.__all__ == PINNED
    assert sorted(unified_icc.__all__) == unified_icc.__all__


def test_every_public_name_resolves_lazily() -> None:
    for name in PINNED:
        assert getattr(unified_icc, name) is not None


def test_every_error_is_a_unified_icc_error_and_leaves_subclass_builtins() -> None:
    errors = [getattr(unified_icc, name) for name in PINNED if name.endswith("Error")]

    assert all(issubclass(error, unified_icc.UnifiedICCError) for error in errors)
    assert issubclass(unified_icc.WindowNotFoundError, LookupError)
    assert issubclass(unified_icc.TmuxTimeoutError, TimeoutError)
    assert issubclass(unified_icc.ConfigError, ValueError)
