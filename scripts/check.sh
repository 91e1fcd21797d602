#!/usr/bin/env bash
# Set up everything (dev extras, Debian chromium for the browser tests) and run the whole check:
# ruff format --check, ruff check, mypy on the package, pytest (unit, slow and browser tests).
set -uo pipefail
cd "$(dirname "$0")/.."
set -e
bash scripts/setup.sh --dev
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
echo "== ruff format --check"; .venv/bin/ruff format --check cqc_assistant tests bench
echo "== ruff check"; .venv/bin/ruff check cqc_assistant tests bench
echo "== mypy"; .venv/bin/mypy cqc_assistant
echo "== pytest"
set +e
.venv/bin/pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
