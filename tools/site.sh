#!/usr/bin/env bash
# README command 1: install everything, then build the website into _build/html/{ja,zh,en}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh book
.venv/bin/python tools/build_site.py "$@"
