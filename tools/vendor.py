"""Fetch the site's JavaScript and CSS from the npm registry into .vendor/ (not committed).

KaTeX renders the formulas at build time (its script runs in node, into .vendor/node); the
pages get only its stylesheet and fonts, served from the built site itself, so a reader's browser
requests nothing from outside the site. (The widgets need no library: course_pkg/assets/live-widgets.js.)
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
NODE = ROOT / ".vendor" / "node"  # used by the build only, never copied into the site

# name in npm -> (version, files to copy from the package: source -> destination under STATIC)
PACKAGES = {
    "katex": ("0.19.1", {"dist/katex.min.css": "katex/katex.min.css", "dist/fonts": "katex/fonts"}),
}
# name in npm -> (version, files for the build's node scripts: source -> destination under NODE)
# axe-core is for the browser tests only (tests/browser/test_site.py injects it into each page).
BUILD_PACKAGES = {
    "katex": ("0.19.1", {"dist/katex.min.js": "katex.min.js"}),
    "axe-core": ("4.14.1", {"axe.min.js": "axe.min.js"}),
}
# Files of a copied folder that the site never loads (source maps, licence banners, the font
# formats older than woff2 that every current browser passes over).
SKIP_SUFFIXES = (".map", ".LICENSE.txt", ".ttf", ".woff")


def _tarball(name: str, version: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = name.lstrip("@").replace("/", "-")
    path = CACHE / f"{stem}-{version}.tgz"
    if not path.exists():
        out = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(CACHE)],
            check=True,
            capture_output=True,
            text=True,
        )
        produced = CACHE / json.loads(out.stdout)[0]["filename"]
        produced.rename(path)
    return path


def _extract(tgz: Path, files: dict[str, str], root: Path) -> None:
    with tarfile.open(tgz) as tar:
        members = tar.getmembers()
        for src, dst in files.items():
            prefix = f"package/{src}"
            target = root / dst
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
    stamp = ROOT / ".vendor" / "versions.json"
    wanted = {
        "site": {name: version for name, (version, _) in PACKAGES.items()},
        "build": {name: version for name, (version, _) in BUILD_PACKAGES.items()},
    }
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        print(f"vendor: up to date in {STATIC.relative_to(ROOT)}")
        return 0
    for root, packages in ((STATIC, PACKAGES), (NODE, BUILD_PACKAGES)):
        if root.exists():  # nothing left over from packages no longer listed
            shutil.rmtree(root)
        for name, (version, files) in packages.items():
            print(f"vendor: {name}@{version}")
            _extract(_tarball(name, version), files, root)
    stamp.write_text(json.dumps(wanted, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
