#!/usr/bin/env bash
# The whole test suite: set up .venv with the test tools and the pinned agent CLIs (.e2e/),
# check style, types and layering, then run every test (unit, integration on a private tmux
# server, e2e with the real CLIs against fake model APIs on 127.0.0.1, browser tests in Debian's
# headless Chromium, installed by scripts/install-browser.sh when missing).
source "$(dirname "$0")/scripts/bootstrap.sh"
check_tmux
bootstrap_venv test
bash "$ROOT/scripts/install-agent-clis.sh"
bash "$ROOT/scripts/install-browser.sh"
cd "$ROOT"
"$VENV/bin/ruff" check src tests
"$VENV/bin/lint-imports" --no-cache >/dev/null || "$VENV/bin/lint-imports" --no-cache
"$VENV/bin/mypy"
exec "$VENV/bin/pytest" "$@"
