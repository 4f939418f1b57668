"""`python wsgi.py` and `flask --app wsgi` as a self-hoster runs them: real processes, only the settings given."""
import os
import queue
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parents[2]
# Every name that could carry a developer's settings into the process.
CARRIERS = {setting.name for setting in config.SETTINGS} | {"TEST_DATABASE_URL", "FLASK_APP", "FLASK_DEBUG"}


def clean_env(**settings):
    """This process's environment without any setting, plus `settings` (as text)."""
    env = {name: value for name, value in os.environ.items() if name not in CARRIERS}
    env.update({name: str(value) for name, value in settings.items()})
    return env


def open_files(soft, hard=None):
    """What makes a child start with this open-file limit: the `preexec_fn` of Popen; None on Windows,
    which has no such limit (and no preexec_fn)."""
    if os.name != "posix":
        return None
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard or resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    return limit


def run(args, env, cwd=ROOT, preexec_fn=None):
    """Runs `python *args` to the end; the CompletedProcess."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, encoding="utf-8", timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec_fn,
    )


def flask(*args, env, cwd=ROOT):
    return run(["-m", "flask", "--app", "wsgi", *args], env, cwd)


class Served:
    """A running `python wsgi.py`: its pid, base URL and what it has written to stderr so far."""

    def __init__(self, process):
        self.process = process
        self.pid = process.pid
        self.lines = []
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.base_url = self._wait_for_listening()

    def _read(self):
        for line in self.process.stderr:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _wait_for_listening(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            found = re.search(r"Serving on (http://\S+)", line)
            if found:
                return found.group(1)
        raise AssertionError(f"python wsgi.py did not start (exit code {self.process.poll()}): {self.lines}")

    def stderr(self):
        """Every stderr line so far."""
        while not self._lines.empty():
            line = self._lines.get()
            if line is not None:
                self.lines.append(line)
        return self.lines


@contextmanager
def wsgi_server(env, cwd=ROOT, preexec_fn=None, args=("wsgi.py",)):
    """Starts `python wsgi.py` (set PORT=0 for any free port), or `python *args`; yields a Served; stops it afterwards."""
    process = subprocess.Popen(
        [sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, encoding="utf-8", preexec_fn=preexec_fn,
    )
    try:
        yield Served(process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
