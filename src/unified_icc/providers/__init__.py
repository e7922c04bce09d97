"""Agent providers: Claude Code, Codex CLI, Gemini CLI and a plain shell.

Owns how each CLI is launched, resumed, paced and answered; knows nothing of tmux or state.
"""

from __future__ import annotations

from unified_icc.providers.base import HookWiring, LaunchPlan, Mode, Provider, parse_mode
from unified_icc.providers.registry import ProviderRegistry

__all__ = ["HookWiring", "LaunchPlan", "Mode", "Provider", "ProviderRegistry", "parse_mode"]
