"""The console never holds up serving: `python wsgi.py` with its stderr on a pipe nobody reads
(what a Windows console in QuickEdit selection does to a server) keeps answering."""
import re
import socket
import subprocess
import sys
import threading
import time

import requests

from aiteni.serving import ENABLE_EXTENDED_FLAGS, ENABLE_QUICK_EDIT_MODE, STD_INPUT_HANDLE, quick_edit_off
from tests.helpers.database import migrate
from tests.helpers.wsgi_process import ROOT, clean_env


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def test_a_console_nobody_reads_does_not_stop_the_server(tmp_path):
    migrate(f"sqlite:///{tmp_path / 'aiteni.db'}")
    port = free_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'aiteni.db'}", LOG_DIR=tmp_path / "logs", PORT=port,
                    RATELIMIT_ENABLED=0)
    base = f"http://127.0.0.1:{port}"
    # A pipe's buffer (64 KiB on Linux) holds about 600 request lines; nobody reads this one until the end.
    process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with requests.Session() as session:
            for _ in range(100):
                try:
                    session.get(f"{base}/api/version", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            slowest = 0
            for n in range(3000):
                started = time.monotonic()
                assert session.get(f"{base}/api/version", timeout=5).status_code == 200, n
                slowest = max(slowest, time.monotonic() - started)
            started = time.monotonic()
            assert session.get(f"{base}/api/health", timeout=5).status_code == 200
            # A blocked console stalls every request for good (the 5 s timeout); a loaded machine, a moment.
            assert time.monotonic() - started < 2
            assert slowest < 3, slowest
            # The files got every line.
            info = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("info-*.log"))
            assert info.count("GET /api/version 200") == 3001  # and the first, which waited for the start
            # Read again, the console catches up and says how many lines it missed.
            console = []
            threading.Thread(target=lambda: console.extend(process.stderr), daemon=True).start()
            extra = 0
            deadline = time.monotonic() + 10
            while not any(b"not written to the console" in line for line in console) and time.monotonic() < deadline:
                session.get(f"{base}/api/version", timeout=5)
                extra += 1
                time.sleep(0.1)
            # A last line, queued after all the others: once it is on the console, so is everything before it.
            session.get(f"{base}/api/console-caught-up", timeout=5)
            while not any(b"/api/console-caught-up" in line for line in console) and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
    console = b"".join(console).decode("utf-8")
    dropped = re.search(r"(\d+) lines were not written to the console, which was not being read", console)
    assert dropped and int(dropped.group(1)) > 1000, console[-300:]
    # Every request line (versions, the health check, the last one) is on the console or counted as dropped.
    assert console.count("[aiteni.request] GET /api/") + int(dropped.group(1)) == 3001 + extra + 2


class FakeKernel32:
    """The three console calls of Windows' kernel32, on a console whose input mode is `mode` (None: no console)."""

    def __init__(self, mode):
        self.mode = mode

    def GetStdHandle(self, which):  # noqa: N802 (Windows' names)
        assert which == STD_INPUT_HANDLE
        return 7

    def GetConsoleMode(self, handle, mode):  # noqa: N802
        if self.mode is None:
            return 0
        mode._obj.value = self.mode
        return 1

    def SetConsoleMode(self, handle, mode):  # noqa: N802
        assert handle == 7
        self.mode = mode
        return 1


WINDOWS_DEFAULT = 0x01F7  # a new console's input mode on Windows 10: QuickEdit and insert mode among others


def test_quick_edit_is_switched_off_in_the_servers_console_on_windows():
    console = FakeKernel32(WINDOWS_DEFAULT)
    assert quick_edit_off("win32", console)
    assert console.mode == (WINDOWS_DEFAULT | ENABLE_EXTENDED_FLAGS) & ~ENABLE_QUICK_EDIT_MODE
    assert not console.mode & ENABLE_QUICK_EDIT_MODE and console.mode & 0x0020  # insert mode kept


def test_quick_edit_is_left_alone_without_a_console_or_off_windows():
    assert not quick_edit_off("win32", FakeKernel32(None))  # a service: no console
    already_off = FakeKernel32(WINDOWS_DEFAULT & ~ENABLE_QUICK_EDIT_MODE)
    assert not quick_edit_off("win32", already_off) and already_off.mode == WINDOWS_DEFAULT & ~ENABLE_QUICK_EDIT_MODE
    assert not quick_edit_off("linux")
