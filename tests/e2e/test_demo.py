"""`syncline demo` as a newcomer runs it: the commands it prints work as printed (run with bash
and curl), `syncline sandbox` changes the Drive and the webhooks show up in the demo's output, it
writes nothing where it is started, starts clean the second time, and says which port is taken."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.e2e


@dataclass
class Demo:
    """A running `syncline demo`, its output as it comes, and a shell with its exports."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    cwd: Path
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.output):
            assert self.process.poll() is None, f"the demo exited:\n{self.output}"
            assert time.monotonic() < deadline, f"not seen in time:\n{self.output}"
            time.sleep(0.1)

    def commands(self, prefix: str) -> list[str]:
        return [line.strip() for line in self.lines if line.strip().startswith(prefix)]

    def shell(self, command: str) -> str:
        """Run a printed command with bash after the printed `export` lines."""
        script = "\n".join([*self.commands("export "), command])
        done = subprocess.run(
            ["bash", "-c", script],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert 0 == done.returncode, f"{command}\n{done.stderr}"
        return done.stdout

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def start(tmp_path: Path, home: Path) -> Iterator[Callable[..., Demo]]:
    started: list[Demo] = []
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    bindir = Path(sys.executable).parent
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SYNCLINE_") and k != "XDG_DATA_HOME"
    }
    env.update(HOME=str(home), PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}")

    def run(*argv: str) -> Demo:
        process = subprocess.Popen(
            [str(bindir / "syncline"), "demo", *argv],
            env=env,
            cwd=checkout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        demo = Demo(process, env, checkout)
        started.append(demo)
        return demo

    yield run
    for demo in started:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()


def _json(text: str) -> object:
    return orjson.loads(text)


def test_the_printed_commands_work_and_changes_arrive_as_webhooks(start, home):
    """Every printed curl works as printed; the sync id is the real one; content, records and
    the Permissions API check answer; `syncline sandbox add|edit|delete` leads to
    record_created, record_updated and record_deleted in the demo's output."""
    demo = start()
    demo.wait_for(lambda out: "Press Ctrl+C to stop." in out)
    curls = demo.commands("curl ")
    connect, enable, status, records, text, docx, alice, bob, events = curls[:9]
    trigger = next(c for c in curls if "/trigger" in c)
    sync = next(c for c in demo.commands("export SYNC=")).split("=", 1)[1]

    assert "ACTIVE" == _json(demo.shell(connect))["status"]  # type: ignore[index]
    assert sync == _json(demo.shell(enable))["id"]  # type: ignore[index]
    demo.wait_for(lambda out: "sync_complete" in out)
    deadline = time.monotonic() + 30
    while _json(demo.shell(status))["status"] != "IDLE":  # type: ignore[index]
        assert time.monotonic() < deadline, "the sync did not settle"
        time.sleep(0.2)
    names = {r["name"] for r in _json(demo.shell(records))["data"]}  # type: ignore[index]
    assert {"README.txt", "Q3 plan", "Finance"} <= names
    assert "Welcome to the Syncline sandbox drive." in demo.shell(text)
    demo.shell(docx)
    assert (demo.cwd / "q3-plan.docx").read_bytes().startswith(b"PK")
    assert {"hasAccess": True} == _json(demo.shell(alice))
    assert {"hasAccess": False} == _json(demo.shell(bob))
    logged = [e["syncEvent"] for e in _json(demo.shell(events))["data"]]  # type: ignore[index]
    assert "INITIAL_SYNC_COMPLETED" in logged

    steps = {
        "add": ("record_created", "'hello.txt'"),
        "edit": ("record_updated", "'hello.txt'"),
        "delete": ("record_deleted", "'hello.txt'"),
    }
    for command in demo.commands("syncline sandbox ")[:3]:
        action = command.split()[2]
        event, name = steps[action]
        assert "hello.txt" in demo.shell(command)
        demo.shell(trigger)
        demo.wait_for(lambda out, e=event, n=name: re.search(rf"{e}\s+{n}", out) is not None)
    (demo.cwd / "q3-plan.docx").unlink()
    assert 0 == demo.stop()
    assert [] == list(demo.cwd.iterdir())  # nothing written where it was started
    assert (home / ".local/share/syncline/demo/syncline.db").exists()
    assert "Traceback" not in demo.output


def test_the_sharepoint_and_onedrive_commands_work(start):
    """Step 5's curls connect the sandbox SharePoint site and OneDrive, enable their syncs with
    the printed ids, and list and download their files; both syncs complete; a file added to
    the site with `syncline sandbox --integration sharepoint` arrives as `record_created`."""
    demo = start()
    demo.wait_for(lambda out: "Press Ctrl+C to stop." in out)
    step = demo.output.split("5. SharePoint and OneDrive")[1]
    curls = [line.strip() for line in step.splitlines() if line.strip().startswith("curl ")]
    expected = {"sharepoint": ("Launch brief.docx", "Guidelines.txt"), "onedrive": ("Notes.txt",)}

    for done, (connect, enable, records, content), integration in zip(
        (1, 2), (curls[0:4], curls[4:8]), ("sharepoint", "onedrive"), strict=True
    ):
        assert "ACTIVE" == _json(demo.shell(connect))["status"]  # type: ignore[index]
        sync = _json(demo.shell(enable))["id"]  # type: ignore[index]
        assert sync in records
        demo.wait_for(lambda out, n=done: out.count("webhook sync_complete") >= n)
        names = {r["name"] for r in _json(demo.shell(records))["data"]}  # type: ignore[index]
        assert set(expected[integration]) <= names
        assert demo.shell(content).strip()
    add = next(line.strip() for line in step.splitlines() if "sandbox --integration" in line)
    assert "minutes.txt" in demo.shell(add)
    demo.shell(curls[8])
    demo.wait_for(lambda out: re.search(r"record_created\s+'minutes.txt'", out) is not None)
    assert "Traceback" not in demo.output


def test_the_box_commands_work(start):
    """Step 6's curls connect the sandbox Box account, enable its sync, list its records and
    download a file; the printed check says the colleague reads the group's folder; a file added
    with `syncline sandbox --integration box` arrives as `record_created`."""
    demo = start()
    demo.wait_for(lambda out: "Press Ctrl+C to stop." in out)
    step = demo.output.split("6. Box, the same way")[1].split("7. Dropbox")[0]
    curls = [line.strip() for line in step.splitlines() if line.strip().startswith("curl ")]
    connect, enable, records, content, check, trigger = curls

    assert "ACTIVE" == _json(demo.shell(connect))["status"]  # type: ignore[index]
    sync = _json(demo.shell(enable))["id"]  # type: ignore[index]
    assert sync in records
    demo.wait_for(lambda out: "webhook sync_complete" in out)
    names = {r["name"] for r in _json(demo.shell(records))["data"]}  # type: ignore[index]
    assert {"Contracts", "Acme MSA.pdf", "2025.txt", "Notes.txt", "Agenda.txt"} <= names
    assert "Renew Acme by March." in demo.shell(content)
    assert {"hasAccess": True} == _json(demo.shell(check))
    add = next(line.strip() for line in step.splitlines() if "sandbox --integration" in line)
    assert "memo.txt" in demo.shell(add)
    demo.shell(trigger)
    demo.wait_for(lambda out: re.search(r"record_created\s+'memo.txt'", out) is not None)
    assert "Traceback" not in demo.output


def test_the_dropbox_commands_work(start):
    """Step 7's curls connect the sandbox Dropbox account, enable its sync, list its records
    and export the Paper document as Markdown; the printed check says the colleague reads the
    shared folder's file; a file added with `syncline sandbox --integration dropbox` arrives
    as `record_created`."""
    demo = start()
    demo.wait_for(lambda out: "Press Ctrl+C to stop." in out)
    step = demo.output.split("7. Dropbox, the same way")[1]
    curls = [line.strip() for line in step.splitlines() if line.strip().startswith("curl ")]
    connect, enable, records, content, check, trigger = curls

    assert "ACTIVE" == _json(demo.shell(connect))["status"]  # type: ignore[index]
    sync = _json(demo.shell(enable))["id"]  # type: ignore[index]
    assert sync in records
    demo.wait_for(lambda out: "webhook sync_complete" in out)
    names = {r["name"] for r in _json(demo.shell(records))["data"]}  # type: ignore[index]
    assert {"Projects", "Acme", "brief.txt", "Roadmap.paper", "Notes.txt"} <= names
    assert "# Roadmap" in demo.shell(content)
    assert {"hasAccess": True} == _json(demo.shell(check))
    add = next(line.strip() for line in step.splitlines() if "sandbox --integration" in line)
    assert "memo.txt" in demo.shell(add)
    demo.shell(trigger)
    demo.wait_for(lambda out: re.search(r"record_created\s+'memo.txt'", out) is not None)
    assert "Traceback" not in demo.output


def test_a_second_run_starts_clean(start, home):
    """The second demo has a new project and an empty database: enabling works again and no
    error from the first run shows."""
    first = start()
    first.wait_for(lambda out: "Press Ctrl+C to stop." in out)
    first.shell(first.commands("curl ")[0])
    first.shell(first.commands("curl ")[1])
    first.wait_for(lambda out: "sync_complete" in out)
    assert 0 == first.stop()

    second = start()
    second.wait_for(lambda out: "Press Ctrl+C to stop." in out)
    connected = _json(second.shell(second.commands("curl ")[0]))
    enabled = _json(second.shell(second.commands("curl ")[1]))
    second.wait_for(lambda out: "sync_complete" in out)

    assert first.commands("export SYNC=") != second.commands("export SYNC=")
    assert "ACTIVE" == connected["status"]  # type: ignore[index]
    assert "INITIALIZING" == enabled["status"]  # type: ignore[index]
    assert "Traceback" not in second.output
    assert "[error" not in second.output
    assert 0 == second.stop()


def test_a_port_that_is_taken_is_named_with_the_way_out(start):
    """Asked for a port another program holds, the demo exits 2 naming the port and the flag."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        demo = start("--port", str(port))
        code = demo.process.wait(timeout=60)
        time.sleep(0.2)  # let the reader thread take the last lines

    assert 2 == code
    assert f"port {port} is already taken" in demo.output
    assert "--port" in demo.output
