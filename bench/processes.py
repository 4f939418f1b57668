"""The processes a run starts (app server, fake WeChat, wrk) and what /proc says of them."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).resolve().parent / "lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_plan():
    """CPU lists for (server, load generator): apart when there are two or more CPUs, else unpinned."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset"):
        return None, None
    return str(cpus[0]), ",".join(map(str, cpus[1:]))


def pinned(command, cpus):
    return ["taskset", "-c", cpus, *command] if cpus else command


class Served:
    """A Python child that prints its port on its first stdout line and serves until stopped."""

    def __init__(self, module_args, env, log_path, cpus):
        self.log = open(log_path, "ab")
        command = pinned([sys.executable, "-m", *module_args], cpus)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log)
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"{' '.join(module_args)} did not start: see {log_path}")
        self.url = f"http://127.0.0.1:{int(line)}"

    @property
    def pid(self):
        return self.process.pid

    def cpu_seconds(self):
        """User plus system CPU of every thread so far (fields 14 and 15 of /proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def reset_peak_rss(self):
        """Writing 5 to clear_refs restarts VmHWM from the current RSS, so each target gets its own peak."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            pass  # older kernels: the peak then covers the whole run so far

    def peak_rss_mb(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.log.close()


# The helpers each target's script needs before it.
HELPERS = {
    "verify": ["tokens.lua"], "history": ["tokens.lua"], "save": ["tokens.lua"],
    "basic": ["tokens.lua", "answers.lua"], "full": ["tokens.lua", "answers.lua"], "full_anon": ["answers.lua"],
}


def bank_lua(bank):
    """The Lua table BANK of answers.lua: each tier's question ids and their option ids."""
    lines = ["-- Generated at bench start from the served question bank.", "BANK = {"]
    for tier in ("basic", "advanced"):
        lines.append(f"  {tier} = {{")
        for question in bank.tiers[tier]:
            options = ", ".join(f'"{option.id}"' for option in question.options)
            lines.append(f'    {{id = "{question.id}", options = {{{options}}}}},')
        lines.append("  },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def wrk_script(target, workdir, bank):
    """The target's Lua script with the helpers it needs and the reporting `done()`, as one file."""
    helpers = HELPERS.get(target, [])
    texts = [bank_lua(bank)] if "answers.lua" in helpers else []
    texts += [(LUA / part).read_text() for part in [*helpers, f"{target}.lua", "report.lua"]]
    path = Path(workdir) / f"{target}.lua"
    path.write_text("\n".join(texts))
    return path


def run_wrk(script, url, seconds, connections, cpus, args=()):
    """One wrk run: requests, duration, p50/p99 (µs), non-2xx (status ≥ 400) and socket-error counts,
    and `statuses`: {status: count} of every answer."""
    command = pinned(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url, "--", *args],
        cpus,
    )
    output = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", check=True).stdout
    for line in output.splitlines():
        if line.startswith("WRK_RESULT "):
            return json.loads(line.removeprefix("WRK_RESULT "))
    raise RuntimeError(f"wrk printed no result:\n{output}")


def profile(pid, seconds, output, cpus):
    """py-spy sampling the server for `seconds` into collapsed stacks (a flame-graph input)."""
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    # py-spy installs next to the interpreter (requirements-dev.txt); an activated venv is not required.
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not py_spy:
        raise RuntimeError("--profile needs py-spy: pip install -r requirements-dev.txt")
    command = [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "250", "--gil", "-f", "raw", "-o", str(output)]
    return subprocess.Popen(pinned(command, cpus), stdout=subprocess.DEVNULL)
