"""Print the path of a working CPython of the given version, or nothing.

Usage: ``python tools/find_python.py 3.13``

Looks for ``python3.13`` on ``PATH`` (a pyenv shim counts only if it runs), then under
pyenv's root (``$PYENV_ROOT`` or ``~/.pyenv``), newest patch release first. The
Makefile uses it to run the tests on a second Python version when one is present.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def _runs(executable: str, version: str) -> bool:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find_python(version: str) -> str | None:
    """The first working ``python<version>`` found, as a path, or ``None``."""
    on_path = shutil.which(f"python{version}")
    if on_path and _runs(on_path, version):
        return on_path
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    releases = sorted(
        (int(m.group(1)), d) for d in root.glob(f"{version}.*") if (m := pattern.match(d.name))
    )
    for _, folder in reversed(releases):
        candidate = folder / "bin" / f"python{version}"
        if candidate.is_file() and _runs(str(candidate), version):
            return str(candidate)
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not re.fullmatch(r"3\.\d+", argv[0]):
        print(__doc__, file=sys.stderr)
        return 2
    found = find_python(argv[0])
    if found:
        print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
