#!/usr/bin/env bash
# The main job: set up .venv if needed, then run cclark. With no Feishu app configured that is
# local mode: the bot and a web chat on 127.0.0.1 (it prints the URL). Arguments are passed on,
# e.g. ./run.sh --port 9000, ./run.sh --app work, ./run.sh check-config.
source "$(dirname "$0")/scripts/bootstrap.sh"
check_tmux
bootstrap_venv
exec "$VENV/bin/cclark" "$@"
