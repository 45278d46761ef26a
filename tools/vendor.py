"""Fetch the site's JavaScript from the npm registry into .vendor/static/vendor (not committed).

MathJax 3 is served from the built site itself, so a reader's browser requests nothing from
outside the site. (The widgets need no library: course_pkg/assets/live-widgets.js.)
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".vendor" / "npm"
STATIC = ROOT / ".vendor" / "static" / "vendor"

# name in npm -> (version, files to copy from the package: source -> destination under STATIC)
PACKAGES = {
    "mathjax": ("3.2.2", {
        "es5/tex-chtml-full.js": "mathjax/tex-chtml-full.js",
        "es5/output/chtml/fonts/woff-v2": "mathjax/output/chtml/fonts/woff-v2",
        "es5/input/tex/extensions": "mathjax/input/tex/extensions",
        "es5/a11y": "mathjax/a11y",
        "es5/ui": "mathjax/ui",
        "es5/sre": "mathjax/sre",
        "es5/adaptors": "mathjax/adaptors",
    }),
}
# Files of a copied folder that the site never loads (source maps, licence banners).
SKIP_SUFFIXES = (".map", ".LICENSE.txt")


def _tarball(name: str, version: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = name.lstrip("@").replace("/", "-")
    path = CACHE / f"{stem}-{version}.tgz"
    if not path.exists():
        out = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(CACHE)],
            check=True, capture_output=True, text=True,
        )
        produced = CACHE / json.loads(out.stdout)[0]["filename"]
        produced.rename(path)
    return path


def _extract(tgz: Path, files: dict[str, str]) -> None:
    with tarfile.open(tgz) as tar:
        members = tar.getmembers()
        for src, dst in files.items():
            prefix = f"package/{src}"
            target = STATIC / dst
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            chosen = [m for m in members if m.name == prefix or m.name.startswith(prefix + "/")]
            if not chosen:
                raise SystemExit(f"{tgz.name}: no {src!r} in the package")
            for m in chosen:
                if not m.isfile() or m.name.endswith(SKIP_SUFFIXES):
                    continue
                out = target / Path(m.name).relative_to(prefix) if m.name != prefix else target
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(m).read())


def main() -> int:
    stamp = STATIC / "versions.json"
    wanted = {name: version for name, (version, _) in PACKAGES.items()}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        print(f"vendor: up to date in {STATIC.relative_to(ROOT)}")
        return 0
    for name, (version, files) in PACKAGES.items():
        print(f"vendor: {name}@{version}")
        _extract(_tarball(name, version), files)
    stamp.write_text(json.dumps(wanted, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
