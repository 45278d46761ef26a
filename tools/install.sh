#!/usr/bin/env bash
# Install what the course needs on a fresh Debian machine, pinned by constraints.txt.
#   bash tools/install.sh book   # the package, the book toolchain, timm for chapter 5 §5.8
#   bash tools/install.sh test   # the above, plus the test tools
# Debian packages (both modes): fonts-noto-cjk, chromium, poppler-utils,
# libatomic1 (playwright's driver, which prints the PDF handouts), and, when missing, nodejs,
# npm and python3-venv.
# Python packages go into .venv (about 1.7 GB).
# Idempotent: a second run only checks what is there (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-book}"
case "$what" in
  book|test) ;;
  *) echo "install: unknown mode '$what': expected 'book' or 'test'" >&2; exit 2 ;;
esac

# Python: $PYTHON, else python3.11, else python3 (3.11 or newer).
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for c in python3.11 python3; do command -v "$c" >/dev/null && { py="$c"; break; }; done
fi
if [ -z "$py" ] || ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install: needs Python 3.11 or newer (python3.11 or python3 on PATH, or PYTHON=...), found '${py:-none}'" >&2
  exit 2
fi

# 1. Debian packages: CJK fonts (pages, figures), Chromium (PDF handouts, browser tests),
#    poppler-utils (pdftotext), Node.js and npm (tools/vendor.py fetches the site's JavaScript
#    with `npm pack`), the venv module that Debian ships apart from Python, and libatomic1
#    (playwright's node driver needs it to print the PDF handouts; a bare Debian lacks it).
debs=()
wanted=(fonts-noto-cjk chromium poppler-utils libatomic1)
for d in "${wanted[@]}"; do
  dpkg -s "$d" >/dev/null 2>&1 || debs+=("$d")
done
command -v node >/dev/null || debs+=(nodejs)
command -v npm >/dev/null || debs+=(npm)   # NodeSource's nodejs brings its own npm
if [ ! -x .venv/bin/python ] && ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
  debs+=("python3-venv")
fi
if [ ${#debs[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "install: missing system packages ${debs[*]} and no apt-get to install them (Debian expected)" >&2
    exit 2
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install: run as root or install sudo to add: ${debs[*]}" >&2; exit 2; }
    sudo="sudo"
  fi
  echo "install [1/3]: apt-get install ${debs[*]} (first time: 2-5 minutes, 1 GB)"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${debs[@]}"
  fonts_changed=1
else
  echo "install [1/3]: Debian packages already there"
fi

# 2. Python environment (.venv), exact versions from constraints.txt (torch==2.13.0 CPU wheel).
#    A stamp records what was installed; a second run with the same pins skips pip.
extras="book,compat"; [ "$what" = test ] && extras="test,compat"
[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=".venv/.course-install-$what"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16) $extras"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install [2/3]: .venv already has the $what packages"
else
  echo "install [2/3]: pip install -e .[$extras] into .venv (first time: about 3 minutes, 1.7 GB)"
  # pip's own lines (Collecting / Downloading / Installing) are the progress; drop the noise.
  # pip is silent while it unpacks (torch alone takes a minute): say so every 20 s.
  set +e
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar on \
      -c constraints.txt -e ".[${extras}]" 2>&1 | {
    t0=$SECONDS
    while :; do
      IFS= read -r -t 20 line; status=$?
      if [ $status -eq 0 ]; then
        case "$line" in
          *"is ignored: it is neither a file nor a directory"*|"Requirement already satisfied"*) ;;
          *) printf '%s\n' "$line" ;;
        esac
      elif [ $status -gt 128 ]; then
        echo "install:   pip is still working ($((SECONDS - t0)) s)"
      else
        break
      fi
    done
  }
  rc="${PIPESTATUS[0]}"
  set -e
  [ "$rc" -eq 0 ] || { echo "install: pip failed with exit status $rc (see above)" >&2; exit 1; }
  echo "$want" > "$stamp"
fi

# 3. matplotlib caches its font list: rebuild it once the CJK fonts are there.
if [ -n "${fonts_changed:-}" ] || ! .venv/bin/python -c "
import matplotlib.font_manager as fm, sys
sys.exit(0 if any('Noto Sans CJK' in f.name for f in fm.fontManager.ttflist) else 1)" 2>/dev/null; then
  echo "install [3/3]: rebuilding matplotlib's font cache"
  rm -f "$(.venv/bin/python -c 'import matplotlib; print(matplotlib.get_cachedir())')"/fontlist-*.json
  .venv/bin/python -c "import matplotlib.font_manager"
else
  echo "install [3/3]: matplotlib sees the CJK fonts"
fi
echo "install: $what environment ready in .venv"
