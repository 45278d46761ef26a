#!/usr/bin/env bash
# Install what the course needs on a fresh machine, pinned by constraints.txt.
#   bash tools/install.sh book   # the package and the book toolchain
#   bash tools/install.sh test   # the above, plus test tools and Debian's Chromium
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-book}"
case "$what" in book|test) ;; *) echo "usage: $0 book|test" >&2; exit 2 ;; esac

# 1. System packages: CJK fonts (pages, screenshots and matplotlib figures), Chromium for tests.
debs=(fonts-noto-cjk)
[ "$what" = test ] && debs+=(chromium)
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "install: apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fonts_changed=1
fi

# 2. Python environment (.venv), exact versions from constraints.txt (torch==2.13.0 CPU wheel).
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for c in python3.11 python3; do command -v "$c" >/dev/null && { py="$c"; break; }; done
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
extras="book"; [ "$what" = test ] && extras="test,compat"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[${extras}]" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# 3. matplotlib caches its font list: rebuild it once the CJK fonts are there.
if [ -n "${fonts_changed:-}" ] || ! .venv/bin/python -c "
import matplotlib.font_manager as fm, sys
sys.exit(0 if any('Noto Sans CJK' in f.name for f in fm.fontManager.ttflist) else 1)" 2>/dev/null; then
  rm -f "$(.venv/bin/python -c 'import matplotlib; print(matplotlib.get_cachedir())')"/fontlist-*.json
  .venv/bin/python -c "import matplotlib.font_manager"
fi
echo "install: $what environment ready in .venv"
