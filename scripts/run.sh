#!/usr/bin/env bash
# Set up and start the app on the embedded defaults: local Chroma, the bundled MiniLM model, extractive
# answers, and the shipped demo documents (ingested on first start when the library is empty).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/cqc-assistant ui "$@"
