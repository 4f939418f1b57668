"""waitress's internals, subclassed where waitress has no public setting: imported by serving.py only once
pins.py has found the pinned waitress, so another version neither runs nor even imports them.

- Its refusals (413, a malformed request's 400, a transfer coding it does not
  know) answer the JSON envelope with a contract status instead of its plain
  text, and write a request-log line (EnvelopeErrorTask).
- A request with both Content-Length and Transfer-Encoding is answered, then
  its connection closed (RFC 9112 §6.1): nothing pipelined after it is read (FramingParser).
- A stop waits for the requests in progress as long as the slowest may take,
  where waitress waits 5 s (PatientDispatcher).
"""
import http
import logging

import orjson
import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import ServerNotImplemented

from . import logs
from .envelope import JSON_CONTENT_TYPE
from .errors import contract_status

class PatientDispatcher(ThreadedTaskDispatcher):
    """waitress's worker threads, which at a stop wait `stop_seconds` for the requests in progress (waitress: 5 s)."""

    def __init__(self, threads, stop_seconds):
        super().__init__()
        self.stop_seconds = stop_seconds
        self.set_thread_count(threads)

    def shutdown(self, cancel_pending=True, timeout=5):
        return super().shutdown(cancel_pending, max(timeout, self.stop_seconds))


class EnvelopeErrorTask(ErrorTask):
    """A request waitress itself refuses, answered with our envelope (and the contract's statuses), and logged."""

    def execute(self):
        error = self.request.error
        # waitress's 501 is a transfer coding it does not know: the client's fault, like a malformed request.
        status, msg = contract_status(400 if isinstance(error, ServerNotImplemented) else error.code)
        logs.log_request(self.request.command or "-", self.request.path or "-", status, None, "-",
                         self.channel.addr[0], f"refused={error.body}",
                         logging.ERROR if status >= 500 else logging.INFO)
        body = orjson.dumps({"code": status, "msg": msg})
        self.status = f"{status} {http.HTTPStatus(status).phrase}"
        self.response_headers.append(("Content-Type", JSON_CONTENT_TYPE))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class FramingParser(HTTPRequestParser):
    """waitress's parser, closing the connection after a request whose body length is ambiguous
    (Content-Length and Transfer-Encoding both given): a proxy in front may have read its body differently."""

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        # HTTP/1.1 drops Transfer-Encoding once parsed (it keeps `chunked`), HTTP/1.0 ignores and keeps it.
        if "CONTENT_LENGTH" in self.headers and (self.chunked or "TRANSFER_ENCODING" in self.headers):
            # What waitress's task reads to close after answering, in HTTP/1.0 and 1.1 alike.
            self.headers["CONNECTION"] = "close"


class EnvelopeChannel(HTTPChannel):
    error_task_class = EnvelopeErrorTask
    parser_class = FramingParser


def create_server(app, listening, threads, stop_seconds, options):
    """waitress's server on the `listening` sockets, with PatientDispatcher's threads and EnvelopeChannel's
    connections."""
    sockets = {}
    dispatcher = PatientDispatcher(threads, stop_seconds)
    server = waitress.create_server(app, map=sockets, _dispatcher=dispatcher, sockets=listening, **options)
    for listener in sockets.values():
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = EnvelopeChannel
    return server
