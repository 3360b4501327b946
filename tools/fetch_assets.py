"""Fetch the third-party browser assets that the book serves from its own files.

The book must work offline, so MathJax is not loaded from a CDN: this tool gets
MathJax 3 from the npm registry with ``npm pack`` and unpacks the few files the
book needs into ``vendor/mathjax/`` (git-ignored). Sphinx copies ``vendor/`` into
``_build/html/_static/`` (``html_static_path: [vendor]`` in ``_config.yml``).

Kept from the package:

- ``es5/tex-svg-full.js``: TeX input, SVG output (no web fonts needed), every TeX
  extension preloaded, the context menu;
- ``es5/ui/``, ``es5/a11y/`` and ``es5/sre/``: what the context menu loads on demand
  (accessibility explorer, speech), so that no menu choice asks for a missing file;
- ``LICENSE`` (Apache 2.0).

The tool is idempotent: when ``vendor/mathjax/`` already holds the pinned version
with every file in place it returns at once without touching the network.

Usage: ``python tools/fetch_assets.py [--force]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "vendor"
MATHJAX_DIR = VENDOR / "mathjax"
MARKER = MATHJAX_DIR / ".version"

MATHJAX_VERSION = "3.2.2"
# Integrity of mathjax-3.2.2.tgz as published on the npm registry.
MATHJAX_INTEGRITY = (
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/"
    "O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
# Paths inside the npm package (under "package/") -> kept under vendor/mathjax/.
KEEP_FILES = {"es5/tex-svg-full.js": "tex-svg-full.js", "LICENSE": "LICENSE"}
KEEP_DIRS = {"es5/ui": "ui", "es5/a11y": "a11y", "es5/sre": "sre"}
ENTRY_POINT = MATHJAX_DIR / "tex-svg-full.js"


class FetchError(RuntimeError):
    """Raised when the assets cannot be fetched; the message says what to do."""


def is_complete() -> bool:
    """Return True if vendor/mathjax holds the pinned version with every kept file.

    Returns
    -------
    bool
        True when the version marker matches and every kept file/folder exists.
    """
    if not MARKER.is_file() or MARKER.read_text(encoding="utf-8").strip() != MATHJAX_VERSION:
        return False
    files_ok = all((MATHJAX_DIR / dest).is_file() for dest in KEEP_FILES.values())
    dirs_ok = all(any((MATHJAX_DIR / dest).rglob("*.js*")) for dest in KEEP_DIRS.values())
    return files_ok and dirs_ok


def npm_pack(workdir: Path) -> Path:
    """Download the pinned MathJax tarball with ``npm pack`` into ``workdir``.

    Parameters
    ----------
    workdir : Path
        An empty temporary folder that receives ``mathjax-<version>.tgz``.

    Returns
    -------
    Path
        The tarball, checked against the pinned integrity hash.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(
            "npm was not found on PATH. The book serves MathJax from its own files and "
            "gets it with `npm pack mathjax@" + MATHJAX_VERSION + "`.\n"
            "Install Node.js and npm (Debian/Ubuntu: `apt-get install -y npm`), then run "
            "`make book` again."
        )
    cmd = [npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--json", "--pack-destination", str(workdir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, check=False)
    if proc.returncode != 0:
        raise FetchError(
            f"`npm pack mathjax@{MATHJAX_VERSION}` failed (exit {proc.returncode}); is the npm "
            f"registry reachable?\n{proc.stderr.strip()}"
        )
    try:
        info = json.loads(proc.stdout)[0]
    except (json.JSONDecodeError, IndexError, KeyError) as exc:
        raise FetchError(f"could not read the output of `npm pack`: {proc.stdout!r}") from exc
    if info.get("integrity") != MATHJAX_INTEGRITY:
        raise FetchError(
            f"mathjax@{MATHJAX_VERSION} from npm has integrity {info.get('integrity')!r}, "
            f"expected {MATHJAX_INTEGRITY!r}; refusing to use it."
        )
    tarball = workdir / info["filename"]
    if not tarball.is_file():
        raise FetchError(f"`npm pack` reported {info['filename']} but did not write it")
    return tarball


def unpack(tarball: Path, workdir: Path) -> None:
    """Unpack the kept files of the tarball into ``vendor/mathjax`` (replacing it).

    Parameters
    ----------
    tarball : Path
        The npm tarball of MathJax.
    workdir : Path
        A temporary folder to unpack into before moving the kept files in place.
    """
    extract_dir = workdir / "extract"
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(extract_dir, filter="data")
    package = extract_dir / "package"
    staging = workdir / "mathjax"
    staging.mkdir()
    for src, dest in KEEP_FILES.items():
        if not (package / src).is_file():
            raise FetchError(f"the MathJax package has no {src}")
        shutil.copy2(package / src, staging / dest)
    for src, dest in KEEP_DIRS.items():
        if not (package / src).is_dir():
            raise FetchError(f"the MathJax package has no folder {src}")
        shutil.copytree(package / src, staging / dest)
    (staging / ".version").write_text(MATHJAX_VERSION + "\n", encoding="utf-8")
    VENDOR.mkdir(exist_ok=True)
    if MATHJAX_DIR.exists():
        shutil.rmtree(MATHJAX_DIR)
    shutil.move(str(staging), MATHJAX_DIR)


def fetch(force: bool = False) -> str:
    """Make sure vendor/mathjax holds the pinned MathJax; return what was done.

    Parameters
    ----------
    force : bool, default False
        Fetch again even if the files are already in place.

    Returns
    -------
    str
        A one-line status message.
    """
    if not force and is_complete():
        return f"MathJax {MATHJAX_VERSION} already in vendor/mathjax (nothing to do)"
    with tempfile.TemporaryDirectory(prefix="fetch-assets-") as tmp:
        workdir = Path(tmp)
        tarball = npm_pack(workdir)
        unpack(tarball, workdir)
    if not is_complete():
        raise FetchError("vendor/mathjax is incomplete after unpacking")
    size = sum(p.stat().st_size for p in MATHJAX_DIR.rglob("*") if p.is_file())
    return f"MathJax {MATHJAX_VERSION} unpacked into vendor/mathjax ({size / 1e6:.1f} MB)"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="fetch even if already present")
    args = parser.parse_args(argv)
    try:
        print(fetch(force=args.force))
    except FetchError as exc:
        print(f"fetch_assets: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
