"""Real aiteni servers for tests: waitress in a separate process, on an ephemeral 127.0.0.1 port.

`python tests/helpers/servers.py '<JSON settings>' [threads]` is what each process runs.
"""
import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def waitress_process(settings, threads=8, prefix=()):
    """Starts a server with create_app(settings); yields its base URL; stops it afterwards.

    `prefix` runs the server under another command (e.g. faketime, Linux only); on POSIX the whole
    process group is stopped, as such a command may not pass SIGTERM on to its child.
    """
    process = subprocess.Popen(
        [*prefix, sys.executable, __file__, json.dumps(settings), str(threads)],
        cwd=ROOT,
        env={**os.environ, "AITENI_ENV": "testing"},
        stdout=subprocess.PIPE,
        encoding="utf-8",
        start_new_session=True,  # ignored on Windows
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"server did not start (exit code {process.poll()})"
        yield f"http://127.0.0.1:{port}"
    finally:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
        else:  # Windows has no process groups to signal: TerminateProcess
            process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    import waitress

    from aiteni import create_app

    app = create_app(json.loads(sys.argv[1]))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=int(sys.argv[2]), ident="aiteni")
    print(server.effective_port, flush=True)
    server.run()
