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
- :class:`ReadyOnIdleClient`, an ``AsyncKernelClient`` that takes a kernel as ready at
  its ``idle`` status instead of after jupyter_client's fixed 0.2 s of IOPub silence,
  and whose sockets retry a connection after 5 ms instead of ZeroMQ's 100 ms;
- :class:`ForkedKernelManager`, an ``AsyncKernelManager`` that uses that provisioner and
  that client;
- :class:`ForkedExecute`, nbgrader's ``Execute`` preprocessor with that manager (and a
  kernel killed, not shut down, after its notebook's last cell), put in place by
  :func:`forked_config` (``Autograde.autograde_preprocessors``).

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
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner
from kernel_template import LAUNCHER
from nbgrader.preprocessors import Execute  # type: ignore[import-untyped]
from traitlets import default

#: The template process (run as a script).
TEMPLATE = Path(__file__).resolve().parent / "kernel_template.py"
#: One BLAS thread: a process with running BLAS threads cannot be forked safely.
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Seconds between two checks that a killed kernel is gone (jupyter_client waits 0.1 s).
POLL_S = 0.002
#: The first retry, in ms, of a client socket whose kernel has not bound its port yet
#: (ZeroMQ's default is 100 ms, and a forked kernel binds its ports about 50 ms after
#: the fork); each retry after it waits twice as long, up to ZeroMQ's 100 ms.
RECONNECT_MS, RECONNECT_MAX_MS = 5, 100
#: Seconds to wait for the kernel's IOPub status after its ``kernel_info`` reply before
#: asking again (jupyter_client's own wait).
IOPUB_WAIT_S = 0.2


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


class ReadyOnIdleClient(AsyncKernelClient):
    """``AsyncKernelClient`` that knows a new kernel is ready as soon as it is.

    jupyter_client's ``wait_for_ready`` sends ``kernel_info`` until a reply comes on the
    shell channel and a message on IOPub (so the IOPub socket is connected), then reads
    IOPub until 0.2 s pass with no message. That last wait is spent on every kernel
    started: it was a third of a forked kernel's start-up. Here IOPub is read only up to
    the kernel's ``idle`` status for the request, the last message the request causes;
    the kernel publishes nothing more until the first cell is sent.

    A message published before the IOPub subscription reached the kernel is lost, so the
    status of a first ``kernel_info`` can be missing. The kernel's ``iopub_welcome``
    (sent when the subscription arrives) means that from then on nothing is lost:
    ``kernel_info`` is sent again at once instead of after a silent 0.2 s. A kernel
    without the welcome message gets the 0.2 s wait and a new request, as in
    jupyter_client. Messages of an earlier request left in a channel are ignored by
    nbclient, which reads only the replies and outputs of the requests it sent.
    """

    @default("context")
    def _quick_reconnect_context(self) -> zmq.asyncio.Context:
        self._created_context = True  # as jupyter_client's own: closed with the channels
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        context.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_MAX_MS)
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            if await self._kernel_info_reply() and await self._idle_after(msg_id):
                return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    async def _kernel_info_reply(self) -> bool:
        """Whether a ``kernel_info`` reply came on the shell channel within a second."""
        try:
            msg = await self.shell_channel.get_msg(timeout=1)
        except Empty:
            return False
        if msg["msg_type"] != "kernel_info_reply":
            return False
        self._handle_kernel_info_reply(msg)
        return True

    async def _idle_after(self, msg_id: str) -> bool:
        """Read IOPub up to the ``idle`` status of request ``msg_id``; False if that
        status may have been lost (IOPub was not yet subscribed)."""
        while True:
            try:
                msg = await self.iopub_channel.get_msg(timeout=IOPUB_WAIT_S)
            except Empty:
                return False
            if msg["msg_type"] == "iopub_welcome":
                return False  # subscribed only now: ask again
            if (msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") == msg_id):
                return True


class ForkedKernelManager(AsyncKernelManager):
    """``AsyncKernelManager`` whose kernels come from :class:`ForkedKernelProvisioner`,
    with :class:`ReadyOnIdleClient` as the client."""

    @default("client_factory")
    def _ready_on_idle_client(self) -> type[AsyncKernelClient]:
        return ReadyOnIdleClient

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
        # the kernel is thrown away once its last cell has reported idle (every output
        # is in by then): killed at once, not asked to shut down and waited for
        kwargs.setdefault("shutdown_kernel", "immediate")
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
