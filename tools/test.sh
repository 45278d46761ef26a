#!/usr/bin/env bash
# README command 2: install what the tests need, build the site they check, run the whole suite:
# ruff (lint and format), then package, exercises, grading and browser tests, plus nbval over
# book/, solutions/ and exercises/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh test
.venv/bin/ruff check .            # lint (rules in pyproject.toml [tool.ruff])
.venv/bin/ruff format --check .   # formatting: run `.venv/bin/ruff format .` to fix
.venv/bin/python tools/build_site.py
export PYTHONHASHSEED=0
exec .venv/bin/python -m pytest -n 2 --dist loadfile --nbval-lax \
  --ignore-glob="book/*/exercises/*" tests book solutions exercises "$@"
