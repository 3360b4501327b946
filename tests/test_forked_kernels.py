"""Kernels forked from the preloaded template (``tools/forked_kernels.py``) behave as
new kernels: each notebook gets its own process, folder, seeds and untouched modules, a
loop is stopped at the time limit, and no kernel outlives the template."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import forked_kernels  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _run(folder: Path, *sources: str, timeout: int = 20) -> list[str]:
    """Execute ``sources`` as a notebook in ``folder`` in a forked kernel; the text of
    each cell's first output."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(nb, timeout=timeout, interrupt_on_timeout=True, allow_errors=True,
                   kernel_manager_class=forked_kernels.ForkedKernelManager,
                   shutdown_kernel="immediate",
                   resources={"metadata": {"path": str(folder)}}).execute()
    texts = []
    for cell in nb.cells:
        out = cell.outputs[0] if cell.outputs else {}
        texts.append(out.get("text") or out.get("data", {}).get("text/plain")
                     or out.get("ename", ""))
    return [t.strip() for t in texts]


def test_a_forked_kernel_is_a_fresh_child_of_the_template(tmp_path: Path) -> None:
    (tmp_path / "helper_here.py").write_text("VALUE = 41\n")
    probe = ("import os, sys, numpy, random\n"
             "print(os.getppid(), os.getpid() == os.getpgid(0), os.getcwd(), sys.path[0])")
    first = _run(tmp_path, probe, "import helper_here; print(helper_here.VALUE + 1)",
                 "numpy.pi = 3.0; print(numpy.pi)",
                 "print(numpy.random.random(), random.random())")
    second = _run(tmp_path, probe, "import numpy; print(numpy.pi)",
                  "import numpy, random; print(numpy.random.random(), random.random())")
    template = forked_kernels._template
    assert template is not None and template.poll() is None
    parent, leader, cwd, path0 = first[0].split()
    assert int(parent) == template.pid != os.getpid()  # forked, not launched by us
    assert leader == "True"  # its own process group: an interrupt reaches only it
    assert cwd == path0 == str(tmp_path)  # the notebook's folder, first on sys.path
    assert first[1] == "42"
    assert first[2] == "3.0" and second[1] == repr(3.141592653589793)  # no state carried over
    assert first[3] != second[2]  # each kernel draws its own seeds
    assert second[0].split()[0] == parent


def test_a_loop_is_interrupted_and_the_next_cells_run(tmp_path: Path) -> None:
    start = time.monotonic()
    texts = _run(tmp_path, "while True:\n    pass", "print('after')", timeout=2)
    assert texts == ["KeyboardInterrupt", "after"]
    assert time.monotonic() - start < 15


def test_the_template_kills_its_kernels_when_its_input_closes(tmp_path: Path) -> None:
    connection = tmp_path / "kernel.json"
    template = subprocess.Popen([sys.executable, str(forked_kernels.TEMPLATE)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, **forked_kernels.SINGLE_THREAD})
    assert template.stdin is not None and template.stdout is not None
    template.stdin.write(json.dumps({"argv": ["-f", str(connection)], "cwd": str(tmp_path),
                                     "env": dict(os.environ)}) + "\n")
    template.stdin.flush()
    pid = int(template.stdout.readline())
    os.kill(pid, 0)  # the kernel is running
    template.stdin.close()
    template.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("a forked kernel outlived its template")


def test_forked_config_puts_the_forking_execute_in_place_of_nbgraders() -> None:
    from nbgrader.preprocessors import Execute

    steps = forked_kernels.forked_config().Autograde.autograde_preprocessors
    assert Execute not in steps and steps.count(forked_kernels.ForkedExecute) == 1



class _ScriptedKernel(forked_kernels.ReadyOnIdleClient):
    """The readiness check against a kernel that answers from a script: for the n-th
    ``kernel_info`` request, the IOPub messages ``iopub[n]`` (``"welcome"``, or a status
    and the number of the request it answers); an exhausted script is silence."""

    def __init__(self, iopub: list[list[tuple[str, int]]], alive: bool = True):
        super().__init__()
        self.script, self.alive, self.asked = iopub, alive, []
        self.queue: list[dict] = []
        self.silences = 0
        test = self

        class Shell:
            async def get_msg(self, timeout: float) -> dict:
                return {"msg_type": "kernel_info_reply", "content": {},
                        "parent_header": {"msg_id": test.asked[-1]}}

        class IOPub:
            async def get_msg(self, timeout: float) -> dict:
                if not test.queue:
                    test.silences += 1
                    raise forked_kernels.Empty
                return test.queue.pop(0)

        self._shell, self._iopub = Shell(), IOPub()

    shell_channel = property(lambda self: self._shell)  # type: ignore[assignment]
    iopub_channel = property(lambda self: self._iopub)  # type: ignore[assignment]

    def kernel_info(self) -> str:
        self.asked.append(f"info-{len(self.asked)}")
        number = len(self.asked) - 1
        for kind, answers in self.script[number] if number < len(self.script) else []:
            if kind == "welcome":
                self.queue.append({"msg_type": "iopub_welcome", "content": {},
                                   "parent_header": {}})
            else:
                self.queue.append({"msg_type": "status", "content": {"execution_state": kind},
                                   "parent_header": {"msg_id": f"info-{answers}"}})
        return self.asked[-1]

    async def is_alive(self) -> bool:  # type: ignore[override]
        return self.alive

    def _handle_kernel_info_reply(self, msg: dict) -> None:
        pass


def _ready(client: _ScriptedKernel, timeout: float = 5) -> _ScriptedKernel:
    import asyncio

    asyncio.run(client.wait_for_ready(timeout=timeout))
    return client


@pytest.mark.parametrize(("script", "asks", "silences"), [
    # an older kernel, subscribed in time: busy and idle of the one request
    ([[("busy", 0), ("idle", 0)]], 1, 0),
    # subscribed before the first status: asked again at once, ready at the idle of the
    # second request, the stale statuses of the first skipped
    ([[("welcome", 0), ("busy", 0), ("idle", 0)], [("busy", 1), ("idle", 1)]], 2, 0),
    # the first request's statuses lost before the subscription: no silent wait either
    ([[("welcome", 0)], [("busy", 1), ("idle", 1)]], 2, 0),
    # an idle status that answers another request does not count
    ([[("idle", 7)], [("busy", 1), ("idle", 1)]], 2, 1),
    # nothing on IOPub (an older kernel, not yet subscribed): asked again after the wait
    ([[], [("busy", 1), ("idle", 1)]], 2, 1),
])
def test_a_kernel_is_ready_at_the_idle_status_of_a_kernel_info_request(
        script: list[list[tuple[str, int]]], asks: int, silences: int) -> None:
    client = _ready(_ScriptedKernel(script))
    assert (len(client.asked), client.silences) == (asks, silences)
    assert client.queue == []  # nothing of the request it answered is left unread


def test_a_kernel_that_dies_or_never_answers_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="died"):
        _ready(_ScriptedKernel([], alive=False))
    with pytest.raises(RuntimeError, match="didn't respond"):
        _ready(_ScriptedKernel([]), timeout=0.3)


def test_new_kernels_give_their_first_cell_output(tmp_path: Path) -> None:
    manager = forked_kernels.ForkedKernelManager(kernel_name="python3")
    assert isinstance(manager.client(), forked_kernels.ReadyOnIdleClient)
    for number in range(8):
        assert _run(tmp_path, f"print({number})") == [str(number)]
