"""Where `python wsgi.py` listens: exclusive binding on Windows (SO_EXCLUSIVEADDRUSE, not waitress's
SO_REUSEADDR, which lets a second server share the port there), and one line for a port it cannot have."""
import errno
import socket
import sys

import pytest

from aiteni.serving import SO_EXCLUSIVEADDRUSE, WSAEACCES, bind_options, cannot_listen, listening_sockets
from tests.helpers.wsgi_process import clean_env, run, wsgi_server


def test_windows_binds_exclusively_and_never_with_so_reuseaddr():
    assert bind_options("win32") == [(socket.SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1)]
    assert all(name != socket.SO_REUSEADDR for _, name, _ in bind_options("win32"))


@pytest.mark.skipif(sys.platform == "win32", reason="binds with this platform's options")
def test_posix_keeps_so_reuseaddr_so_a_restart_binds_over_time_wait():
    for platform in ("linux", "darwin", "freebsd14"):
        assert bind_options(platform) == [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]
    first = listening_sockets("127.0.0.1", 0)
    try:
        assert first[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        first[0].listen()
        port = first[0].getsockname()[1]
        with pytest.raises(OSError) as refused:
            listening_sockets("127.0.0.1", port)
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        for sock in first:
            sock.close()


def test_a_second_python_wsgi_py_on_the_same_port_is_refused_with_one_line(tmp_path, database_url):
    env = clean_env(DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs", PORT=0)
    with wsgi_server(env) as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        done = run(["wsgi.py"], clean_env(DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs2", PORT=port))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"aiteni refuses to start: PORT {port} on 127.0.0.1 is already in use: stop the other server or set PORT to a free one"
    )


def test_a_port_windows_reserves_says_how_to_find_the_reservation():
    error = OSError(WSAEACCES, "An attempt was made to access a socket in a way forbidden by its access permissions")
    line = cannot_listen(error, "127.0.0.1", 8000, platform="win32")
    assert "netsh interface ipv4 show excludedportrange protocol=tcp" in line and "netstat -ano | findstr :8000" in line
    assert "above 1023" not in line and "privileges" not in line
    # POSIX: a port below 1024 does need privileges.
    assert "needs privileges: use a port above 1023" in cannot_listen(OSError(errno.EACCES, "denied"), "0.0.0.0", 80, "linux")
