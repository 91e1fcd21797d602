#!/usr/bin/env bash
# Create .venv and install cqc-assistant into it (torch pinned to the CPU build on this machine).
# Usage: scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first and pinned: an unpinned torch pulls gigabytes of CUDA wheels.
.venv/bin/python -m pip install -q "torch==2.13.0"
if [ "${1:-}" = "--dev" ]; then
    .venv/bin/python -m pip install -q -e ".[dev]"
else
    .venv/bin/python -m pip install -q -e .
fi
# The embedding model's ONNX export, checked against PyTorch (cqc_assistant/minilm_onnx.py), made now so the
# first search does not make it; without it the model runs on PyTorch.
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m cqc_assistant.minilm_onnx \
    || echo "note: no ONNX export of the embedding model; it will run on PyTorch" >&2
