"""The template process of ``forked_kernels``: it imports once, then forks kernels.

Run as ``python tools/kernel_template.py`` (``forked_kernels`` starts it, one per grading
worker). It imports what the exercise notebooks import, then reads one JSON request per
line on standard input (``argv``, ``cwd``, ``env`` of the kernel command
``python -m ipykernel_launcher ...``), forks, and writes the child's process id. The
child becomes that kernel, as a new process would: its own process group, working
folder, environment, ``sys.path[0]`` and fresh random seeds. When the input closes (the
grading worker ended), the template kills the kernels it forked that are still alive,
and exits. It runs no notebook code itself, so every fork starts from the same state.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import signal
import sys
from typing import Any

#: Imported before the first fork: what a kernel imports as it starts (the kernel and
#: what it imports only when it is set up: its debugger, IPython's completion and
#: ``%store`` extension, the process and history libraries), then what the exercise
#: notebooks import.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger",
           "IPython.core.completerlib", "IPython.extensions.storemagic", "psutil", "sqlite3",
           "numpy", "sympy", "mpmath", "celesson")
#: The module a standard kernel command runs (``python -m ipykernel_launcher ...``).
LAUNCHER = "ipykernel_launcher"


def _preload() -> None:
    # the debugger's notice that frozen modules may hide breakpoints, printed when it
    # is imported: the grader has no use for it (a kernel's own environment is set anew)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    for name in PRELOAD:
        importlib.import_module(name)
    import celesson

    for info in pkgutil.walk_packages(celesson.__path__, "celesson."):
        importlib.import_module(info.name)


def _kernel_child(request: dict[str, Any]) -> None:
    """In the forked child: become a kernel as ``python -m ipykernel_launcher`` would."""
    import random

    import numpy

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel waits on its own children
    os.setsid()  # its own process group: an interrupt reaches it and what it started
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # the template's request pipes are not the kernel's business
    os.dup2(devnull, 1)
    os.close(devnull)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = request["cwd"]  # as for ``python -m``: the working folder comes first
    sys.argv = [LAUNCHER, *request["argv"]]
    random.seed()  # fresh seeds, as a new process would draw
    numpy.random.seed()  # noqa: NPY002 (the legacy global state, seeded afresh)
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=request["argv"])


def serve() -> None:
    """The template's loop: fork a kernel for each request read on standard input."""
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked kernels are reaped by the system
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the grader, which cleans up
    forked: set[int] = set()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _kernel_child(request)
            finally:
                os._exit(0)
        forked.add(pid)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()
    for pid in forked:  # its group (what it started), and itself if it has no group yet
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass


if __name__ == "__main__":
    serve()
