"""Windows is first-class: no POSIX-only call in aiteni/ or tests/ without a platform guard.

Read from the source (no Windows machine runs the suite): a call, import or path that only
exists on POSIX must sit under a check of the platform (os.name, sys.platform, hasattr, a
POSIX-only module's ImportError, pytest.importorskip), or the quick suite errors on Windows.
"""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

POSIX_MODULES = {"resource", "fcntl", "pwd", "grp", "termios", "pty", "tty"}
POSIX_ATTRIBUTES = {
    "os": {"killpg", "setsid", "setpgrp", "getpgid", "getuid", "geteuid", "getgid", "fork", "chown", "sysconf",
           "WNOHANG", "getloadavg", "mkfifo"},
    "signal": {"SIGKILL", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT", "SIGALRM", "SIGCHLD", "SIGPIPE", "alarm",
               "setitimer", "pause", "pthread_kill"},
    "select": {"poll", "epoll"},
    "socket": {"AF_UNIX", "SO_REUSEPORT"},
}
GUARD = re.compile(r"os\.name|sys\.platform|platform\.system|hasattr\(|HAS_POLL|is_dir\(\)|importorskip")
# What importing or reaching a POSIX-only name raises elsewhere.
MISSING = re.compile(r"ImportError|ModuleNotFoundError|AttributeError")
# Owned by the serving work (issue 24): checked there. This file names the POSIX-only things as data.
ELSEWHERE = {"aiteni/serving.py", "aiteni/logs.py", "tests/project/test_portability.py"}


def _posix_only(node):
    """What POSIX-only thing `node` uses, or None."""
    if isinstance(node, ast.Import):
        names = {alias.name.split(".")[0] for alias in node.names} & POSIX_MODULES
        return next(iter(names), None)
    if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in POSIX_MODULES:
        return node.module
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.attr in POSIX_ATTRIBUTES.get(node.value.id, ()):
            return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/proc/"):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        if str(node.values[0].value).startswith("/proc/"):
            return "/proc/"
    return None


def _guarded(source, chain):
    """Whether a node, reached through `chain` (its ancestors, outermost first), is under a platform check."""
    for ancestor in chain:
        if isinstance(ancestor, (ast.If, ast.IfExp, ast.While)) and GUARD.search(ast.get_source_segment(source, ancestor.test)):
            return True
        if isinstance(ancestor, ast.Try) and any(
            handler.type is not None and MISSING.search(ast.get_source_segment(source, handler.type))
            for handler in ancestor.handlers
        ):
            return True
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # An early return on the platform, or a skip, before the use.
            if any(GUARD.search(ast.get_source_segment(source, part) or "") for part in ancestor.decorator_list):
                return True
            if any(isinstance(stmt, ast.If) and GUARD.search(ast.get_source_segment(source, stmt.test))
                   or "importorskip" in (ast.get_source_segment(source, stmt) or "")
                   for stmt in ancestor.body):
                return True
    return False


def unguarded_uses(path, relative):
    source = path.read_text(encoding="utf-8")
    found = []

    def visit(node, chain):
        what = _posix_only(node)
        if what and not _guarded(source, chain):
            found.append(f"{relative}:{node.lineno}: {what}")
        for child in ast.iter_child_nodes(node):
            visit(child, [*chain, node])

    visit(ast.parse(source), [])
    return found


def python_files():
    for folder in ("aiteni", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative not in ELSEWHERE:
                yield path, relative
    for name in ("config.py", "wsgi.py"):
        yield ROOT / name, name


def test_no_posix_only_call_without_a_platform_guard():
    """tests/helpers/servers.py's os.killpg errored every server test on Windows and left waitress processes behind."""
    found = [use for path, relative in python_files() for use in unguarded_uses(path, relative)]
    assert found == []


def test_the_check_finds_an_unguarded_call_and_accepts_a_guarded_one(tmp_path):
    """The check itself: the shape of servers.py before and after."""
    before = tmp_path / "before.py"
    before.write_text("import os, signal\n\ndef stop(p):\n    os.killpg(p.pid, signal.SIGTERM)\n", encoding="utf-8")
    after = tmp_path / "after.py"
    after.write_text(
        "import os, signal\n\ndef stop(p):\n    if os.name == 'posix':\n        os.killpg(p.pid, signal.SIGTERM)\n"
        "    else:\n        p.terminate()\n\n"
        "def limit():\n    try:\n        import resource\n    except ImportError:\n        return\n",
        encoding="utf-8",
    )
    assert unguarded_uses(before, "before.py") == ["before.py:4: os.killpg"]
    assert unguarded_uses(after, "after.py") == []
