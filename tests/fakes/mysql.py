"""A loopback MySQL server that asks for an authentication the installed driver cannot do.

MySQL 8's caching_sha2_password needs `cryptography`, MariaDB's ed25519 needs `pynacl`: without
the package PyMySQL raises a RuntimeError at connect, not a database error. This server greets,
reads the client's login and asks it to switch to ed25519 (pynacl is not installed here).
"""
import socket
import struct
import threading

PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH = 0x200, 0x8000, 0x80000


def _packet(sequence, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload


def _greeting():
    capabilities = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
    return (
        b"\x0a" + b"8.0.36\0" + struct.pack("<I", 1) + b"12345678" + b"\0"
        + struct.pack("<H", capabilities & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16) + bytes([21]) + b"\0" * 10 + b"123456789012\0"
        + b"mysql_native_password\0"
    )


class Ed25519OnlyServer:
    """Serves every connection the same way until stop(); `port` is where it listens."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                try:
                    connection.sendall(_packet(0, _greeting()))
                    connection.recv(65536)  # the client's login
                    connection.sendall(_packet(2, b"\xfe" + b"client_ed25519\0" + b"n" * 32))
                    connection.recv(65536)  # nothing comes: the client gave up
                except OSError:
                    pass

    def stop(self):
        self.listener.close()
