#!/usr/bin/env bash
# The main job: set up .venv if needed, then run unified-icc (default: show the gateway's status).
# Arguments are passed on, e.g. ./run.sh new ~/projects/app --provider claude
source "$(dirname "$0")/scripts/bootstrap.sh"
check_tmux
bootstrap_venv
exec "$VENV/bin/unified-icc" "$@"
