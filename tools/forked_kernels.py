"""Kernels forked from a process that has already imported the course's libraries.

A standard kernel is a new Python process: it imports ipykernel, IPython, NumPy, SymPy
and celesson before the first cell runs, about 0.4 s of CPU for every notebook graded.
``make grade`` instead starts one *template* process per grading worker, which imports
them once and then forks a kernel for each notebook. Each notebook still runs in its
own process, started for it and killed after it, with nothing shared with any other
student's kernel: a fork is a copy of the template, which has run no student code.

The pieces are jupyter_client's and nbgrader's own extension points:

- :class:`ForkedKernelProvisioner`, a ``LocalProvisioner`` whose ``launch_kernel`` asks
  the template for a fork instead of starting ``python -m ipykernel_launcher`` (the same
  arguments, connection file, working folder and environment); signals, interrupts on a
  time-out and kills go to the forked process group as they would to a launched one;
- :class:`ForkedKernelManager`, an ``AsyncKernelManager`` that uses that provisioner;
- :class:`ForkedExecute`, nbgrader's ``Execute`` preprocessor with that manager, put in
  place by :func:`forked_config` (``Autograde.autograde_preprocessors``).

If the template cannot be started, the kernel is launched the standard way. Plain
``nbgrader autograde`` (``nbgrader_config.py``) keeps nbgrader's standard kernels.

The template is ``tools/kernel_template.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from kernel_template import LAUNCHER
from nbgrader.preprocessors import Execute  # type: ignore[import-untyped]

#: The template process (run as a script).
TEMPLATE = Path(__file__).resolve().parent / "kernel_template.py"
#: One BLAS thread: a process with running BLAS threads cannot be forked safely.
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Seconds between two checks that a killed kernel is gone (jupyter_client waits 0.1 s).
POLL_S = 0.002


_template: subprocess.Popen[str] | None = None
_template_failed = False
_lock = threading.Lock()


def _fork(request: dict[str, Any]) -> int | None:
    """Ask this process's template for a kernel; its process id, or None if it failed."""
    global _template, _template_failed
    with _lock:
        if _template_failed:
            return None
        if _template is None or _template.poll() is not None:
            _template = subprocess.Popen(
                [sys.executable, str(TEMPLATE)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                env={**os.environ, **SINGLE_THREAD}, cwd=str(TEMPLATE.parent),
            )
        assert _template.stdin is not None and _template.stdout is not None
        try:
            _template.stdin.write(json.dumps(request) + "\n")
            _template.stdin.flush()
            reply = _template.stdout.readline()
            return int(reply)
        except (OSError, ValueError):
            _template_failed = True  # from now on: standard kernels
            return None


class ForkedProcess:
    """The ``subprocess.Popen`` calls jupyter_client makes, for a kernel the template forked.

    The template reaps its children, so a kernel that has exited no longer exists:
    ``poll`` reports it as finished (exit status 0; the real one is the template's).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(LAUNCHER, timeout or 0.0)
            time.sleep(POLL_S)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)



class ForkedKernelProvisioner(LocalProvisioner):
    """``LocalProvisioner``, with the kernel forked from the template when it can be."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if LAUNCHER not in cmd or cmd[0] != sys.executable:  # another kernel: launch it
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = dict(kwargs.get("env") or os.environ)
        pid = _fork({"argv": cmd[cmd.index(LAUNCHER) + 1:], "cwd": cwd, "env": env})
        if pid is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(pid)  # type: ignore[assignment]  # the calls it makes
        self.pid = self.pgid = pid
        self.cwd = cwd
        return self.connection_info

    async def wait(self) -> int | None:
        if not isinstance(self.process, ForkedProcess):
            return await super().wait()
        while await self.poll() is None:
            await asyncio.sleep(POLL_S)
        code = self.process.returncode
        self.process = None
        return code


class ForkedKernelManager(AsyncKernelManager):
    """``AsyncKernelManager`` whose kernels come from :class:`ForkedKernelProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkedKernelProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


class ForkedExecute(Execute):
    """nbgrader's ``Execute``, each notebook in a kernel forked from the template."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("kernel_manager_class", ForkedKernelManager)
        super().__init__(*args, **kwargs)


def forked_config() -> Any:
    """nbgrader settings that run ``autograde`` with :class:`ForkedExecute`."""
    from nbgrader.converters import Autograde  # type: ignore[import-untyped]
    from traitlets.config import Config

    config = Config()
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    config.Autograde.autograde_preprocessors = [ForkedExecute if p is Execute else p
                                                for p in default]
    return config
