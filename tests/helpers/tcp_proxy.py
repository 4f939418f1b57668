"""A TCP proxy a test can cut and restore: a real outage of MariaDB or Redis, without stopping them."""
import socket
import struct
import threading
import time


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target.

    `cut()` is a server that died: open connections are reset, new ones refused.
    `freeze()` is a network that went silent: open connections stay up but carry
    nothing, new ones are refused. `restore()` forwards again on the same port.
    """

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = 0
        self._lock = threading.Lock()
        self._open = set()
        self._listener = None
        self._stop = threading.Event()
        self._silent = threading.Event()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # On restore the old listener may take a moment to let go of the port.
        for attempt in range(40):
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if attempt == 39:
                    raise
                time.sleep(0.05)
        listener.listen(64)
        listener.settimeout(0.05)  # lets the accept loop notice a cut
        self.port = listener.getsockname()[1]
        self._listener, self._stop = listener, threading.Event()
        threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True).start()
        return self

    def cut(self):
        self._stop_listening()
        self._reset_open_connections()

    def freeze(self):
        self._silent.set()
        self._stop_listening()

    def restore(self):
        """Forwards again; connections frozen meanwhile are reset (their server gave up on them)."""
        self._reset_open_connections()
        self._silent.clear()
        return self.start()

    close = cut

    def _stop_listening(self):
        if not self._stop.is_set():
            self._stop.set()
            self._listener.close()

    def _reset_open_connections(self):
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _abort(sock)

    def _accept(self, listener, stop):
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if stop.is_set():
                    _close(client)
                    _close(upstream)
                    return
                self._open.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source, destination):
        try:
            while data := source.recv(65536):
                if not self._silent.is_set():
                    destination.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(destination)


def _abort(sock):
    """Closes with a reset, as a crashed server does; leaves no TIME_WAIT holding the port."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)  # shutdown first: it wakes the thread blocked reading this socket


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
