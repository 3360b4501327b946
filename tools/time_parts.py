"""Run the parts of ``make test`` one after another and say what each one cost.

Usage (the Makefile's ``test`` target)::

    python3 tools/time_parts.py make venvs chromium lint-and-book unit ...

Each part is ``make --no-print-directory <part>``. The first part that fails stops the
run with its exit status, as make itself would. At the end a table gives, per part, the
wall time, the CPU time spent meanwhile, and their ratio: the number of cores kept busy
on average. A part well below the machine's core count leaves CPU idle.

The CPU time is the whole machine's (the busy time in ``/proc/stat``, so run it on an
otherwise idle machine, as CI does). Counting only this process's children
(``getrusage(RUSAGE_CHILDREN)``, the fallback where ``/proc/stat`` is missing) would
miss the browser's processes, which nobody waits for.

Only the standard library is used: the first part creates the virtual environments.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

STAT = Path("/proc/stat")


def _cpu() -> float:
    """CPU seconds used so far: the machine's busy time, else this process's children."""
    try:
        fields = [int(v) for v in STAT.read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # user ... steal


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: time_parts.py MAKE PART [PART ...]", file=sys.stderr)
        return 2
    make, parts = argv[0], argv[1:]
    rows: list[tuple[str, float, float]] = []
    for part in parts:
        start, cpu = time.monotonic(), _cpu()
        status = subprocess.call([make, "--no-print-directory", part])
        rows.append((part, time.monotonic() - start, _cpu() - cpu))
        if status != 0:
            print(f"make test: the part {part!r} failed (exit {status})", file=sys.stderr)
            return status
    cores = os.cpu_count() or 1
    wall, cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"\nThe parts of make test ({cores} cores):")
    print(f"  {'part':<15} {'wall':>7} {'CPU':>7} {'cores busy':>11}")
    for part, seconds, used in [*rows, ("all", wall, cpu)]:
        busy = used / seconds if seconds > 0 else 0.0
        print(f"  {part:<15} {seconds:6.0f}s {used:6.0f}s {busy:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
