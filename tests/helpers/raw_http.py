"""Raw HTTP over a socket, for requests no HTTP client library will send."""
import socket


def _split_response(data):
    """(status, headers with lower-case names, body, bytes after it) once `data` holds a whole response, else None."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        return None
    return int(lines[0].split()[1]), headers, rest[:length], rest[length:]


class RawConnection:
    """One connection to `address`: send bytes, read whole responses, see whether the server closed it."""

    def __init__(self, address):
        self.sock = socket.create_connection(address)
        self.buffer = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def response(self, timeout):
        """Status, headers and body of the next response; None if none came within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while (answer := _split_response(self.buffer)) is None:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return None
                self.buffer += chunk
        except (socket.timeout, ConnectionResetError):
            return None
        status, headers, body, self.buffer = answer
        return status, headers, body

    def closed_by_server(self, timeout):
        """True when the server closed the connection within `timeout` without sending anything more."""
        if self.buffer:
            return False
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


def read_response(sock, timeout):
    """Status, headers (lower-case names) and body of one HTTP response on `sock`; None if none came in time."""
    sock.settimeout(timeout)
    data = b""
    try:
        while (answer := _split_response(data)) is None:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
    except (socket.timeout, ConnectionResetError):
        return None
    return answer[:3]
