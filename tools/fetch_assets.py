"""Fetch the third-party browser assets that the book and its tests use from local files.

The book must work offline, so MathJax is not loaded from a CDN: this tool gets the
pinned npm packages with ``npm pack``, checks each tarball against its pinned
integrity hash, and unpacks the few files that are needed:

- MathJax 3 into ``vendor/mathjax/`` (git-ignored; Sphinx copies ``vendor/`` into
  ``_build/html/_static/``, ``html_static_path: [vendor]`` in ``_config.yml``):
  ``es5/tex-svg-full.js`` (TeX input, SVG output, every TeX extension preloaded, the
  context menu), ``es5/ui/``, ``es5/a11y/`` and ``es5/sre/`` (what the context menu
  loads on demand: accessibility explorer, speech) and ``LICENSE`` (Apache 2.0);
- axe-core into ``artifacts/axe-core/`` (git-ignored, not part of the book): the
  accessibility rules that the browser test runs on every page (``axe.min.js`` and
  its MPL 2.0 ``LICENSE``).

The tool is idempotent: when a package's folder already holds the pinned version with
every file in place it is left alone without touching the network.

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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "vendor"


@dataclass(frozen=True)
class Asset:
    """A pinned npm package and the files of it that are kept.

    Attributes
    ----------
    name, version : str
        The npm package and its pinned version.
    integrity : str
        The tarball's ``integrity`` as published on the npm registry.
    folder : Path
        Where the kept files go (replaced as a whole when fetched again).
    files : dict
        Paths inside the package (under ``package/``) -> names in ``folder``.
    dirs : dict
        Folders inside the package -> names in ``folder``.
    """

    name: str
    version: str
    integrity: str
    folder: Path
    files: dict[str, str]
    dirs: dict[str, str] = field(default_factory=dict)

    @property
    def marker(self) -> Path:
        return self.folder / ".version"


MATHJAX = Asset(
    name="mathjax",
    version="3.2.2",
    integrity=(
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/"
        "O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
    ),
    folder=VENDOR / "mathjax",
    files={"es5/tex-svg-full.js": "tex-svg-full.js", "LICENSE": "LICENSE"},
    dirs={"es5/ui": "ui", "es5/a11y": "a11y", "es5/sre": "sre"},
)
AXE = Asset(
    name="axe-core",
    version="4.14.1",
    integrity=(
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37"
        "OgudVGtQ=="
    ),
    folder=ROOT / "artifacts" / "axe-core",
    files={"axe.min.js": "axe.min.js", "LICENSE": "LICENSE"},
)
ASSETS = (MATHJAX, AXE)
ENTRY_POINT = MATHJAX.folder / "tex-svg-full.js"
AXE_SCRIPT = AXE.folder / "axe.min.js"


class FetchError(RuntimeError):
    """Raised when the assets cannot be fetched; the message says what to do."""


def is_complete(asset: Asset = MATHJAX) -> bool:
    """Return True if ``asset.folder`` holds the pinned version with every kept file.

    Parameters
    ----------
    asset : Asset
        The package to look for.

    Returns
    -------
    bool
        True when the version marker matches and every kept file and folder exists.
    """
    marker = asset.marker
    if not marker.is_file() or marker.read_text(encoding="utf-8").strip() != asset.version:
        return False
    files_ok = all((asset.folder / dest).is_file() for dest in asset.files.values())
    dirs_ok = all(any((asset.folder / dest).rglob("*.js*")) for dest in asset.dirs.values())
    return files_ok and dirs_ok


def npm_pack(asset: Asset, workdir: Path) -> Path:
    """Download the pinned tarball of ``asset`` with ``npm pack`` into ``workdir``.

    Parameters
    ----------
    asset : Asset
        The package to fetch.
    workdir : Path
        An empty temporary folder that receives ``<name>-<version>.tgz``.

    Returns
    -------
    Path
        The tarball, checked against the pinned integrity hash.
    """
    spec = f"{asset.name}@{asset.version}"
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(
            f"npm was not found on PATH. The book serves its scripts from its own files and "
            f"gets them with `npm pack {spec}`.\n"
            "Install Node.js and npm (Debian/Ubuntu: `apt-get install -y npm`), then run "
            "`make book` again."
        )
    cmd = [npm, "pack", spec, "--json", "--pack-destination", str(workdir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, check=False)
    if proc.returncode != 0:
        raise FetchError(
            f"`npm pack {spec}` failed (exit {proc.returncode}); is the npm registry "
            f"reachable?\n{proc.stderr.strip()}"
        )
    try:
        info = json.loads(proc.stdout)[0]
    except (json.JSONDecodeError, IndexError, KeyError) as exc:
        raise FetchError(f"could not read the output of `npm pack`: {proc.stdout!r}") from exc
    if info.get("integrity") != asset.integrity:
        raise FetchError(
            f"{spec} from npm has integrity {info.get('integrity')!r}, "
            f"expected {asset.integrity!r}; refusing to use it."
        )
    tarball = workdir / info["filename"]
    if not tarball.is_file():
        raise FetchError(f"`npm pack` reported {info['filename']} but did not write it")
    return tarball


def unpack(asset: Asset, tarball: Path, workdir: Path) -> None:
    """Unpack the kept files of the tarball into ``asset.folder`` (replacing it).

    Parameters
    ----------
    asset : Asset
        The package the tarball holds.
    tarball : Path
        Its npm tarball.
    workdir : Path
        A temporary folder to unpack into before moving the kept files in place.
    """
    extract_dir = workdir / "extract"
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(extract_dir, filter="data")
    package = extract_dir / "package"
    staging = workdir / asset.name
    staging.mkdir()
    for src, dest in asset.files.items():
        if not (package / src).is_file():
            raise FetchError(f"the {asset.name} package has no {src}")
        shutil.copy2(package / src, staging / dest)
    for src, dest in asset.dirs.items():
        if not (package / src).is_dir():
            raise FetchError(f"the {asset.name} package has no folder {src}")
        shutil.copytree(package / src, staging / dest)
    (staging / ".version").write_text(asset.version + "\n", encoding="utf-8")
    asset.folder.parent.mkdir(parents=True, exist_ok=True)
    if asset.folder.exists():
        shutil.rmtree(asset.folder)
    shutil.move(str(staging), asset.folder)


def fetch(force: bool = False, assets: tuple[Asset, ...] = ASSETS) -> list[str]:
    """Make sure every asset is in place; return one status line per asset.

    Parameters
    ----------
    force : bool, default False
        Fetch again even if the files are already in place.
    assets : tuple of Asset
        The packages to fetch (all of them by default).

    Returns
    -------
    list of str
        One status message per asset.
    """
    done = []
    for asset in assets:
        where = asset.folder.relative_to(ROOT).as_posix()
        if not force and is_complete(asset):
            done.append(f"{asset.name} {asset.version} already in {where} (nothing to do)")
            continue
        with tempfile.TemporaryDirectory(prefix="fetch-assets-") as tmp:
            workdir = Path(tmp)
            unpack(asset, npm_pack(asset, workdir), workdir)
        if not is_complete(asset):
            raise FetchError(f"{where} is incomplete after unpacking")
        size = sum(p.stat().st_size for p in asset.folder.rglob("*") if p.is_file())
        done.append(f"{asset.name} {asset.version} unpacked into {where} ({size / 1e6:.1f} MB)")
    return done


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="fetch even if already present")
    args = parser.parse_args(argv)
    try:
        print("\n".join(fetch(force=args.force)))
    except FetchError as exc:
        print(f"fetch_assets: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
