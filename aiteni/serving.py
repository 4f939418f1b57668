"""How `python wsgi.py` serves: waitress, with limits idle or hostile clients cannot exhaust.

- CONNECTION_LIMIT connections at once, idle ones included (waitress's default,
  100, let 120 idle sockets lock everyone else out); the event loop uses poll(),
  which is not capped at 1024 descriptors as select() is. Worker threads never
  wait on a slow client: waitress reads a whole request before a thread sees it.
- A connection idle for CHANNEL_TIMEOUT seconds is closed.
- A body over MAX_CONTENT_LENGTH is refused as soon as its Content-Length is
  read, and a chunked one as soon as it grows past it, so no big body is ever
  read, let alone spooled to disk (waitress's own limit is 1 GB).
- waitress's own refusals (413, a malformed request's 400) answer the JSON
  envelope instead of its plain text, through EnvelopeChannel.
"""
import errno
import http

import orjson
import waitress
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from . import ConfigError
from .errors import contract_status

# Descriptors beside the connections: listening socket, waitress's trigger, database pool, log files.
SPARE_FILES = 64


def options(config):
    """waitress's settings for this app's config."""
    return {
        "host": config["HOST"],
        "port": config["PORT"],
        "threads": config["THREADS"],
        "connection_limit": config["CONNECTION_LIMIT"],
        "channel_timeout": config["CHANNEL_TIMEOUT"],
        # Idle connections are looked for this often, so one is closed at most a third late.
        "cleanup_interval": max(1, config["CHANNEL_TIMEOUT"] // 3),
        "asyncore_use_poll": True,
        # waitress refuses a body of its limit or more, Flask one over MAX_CONTENT_LENGTH: +1 makes them agree.
        "max_request_body_size": config["MAX_CONTENT_LENGTH"] + 1,
        "ident": "aiteni",
    }


class EnvelopeErrorTask(ErrorTask):
    """A request waitress itself refuses, answered with our envelope (and the contract's statuses)."""

    def execute(self):
        status, msg = contract_status(self.request.error.code)
        body = orjson.dumps({"code": status, "msg": msg})
        self.status = f"{status} {http.HTTPStatus(status).phrase}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class EnvelopeChannel(HTTPChannel):
    error_task_class = EnvelopeErrorTask


def create_server(app, config):
    """A waitress server for `app`, listening, not yet serving; OSError when it cannot listen."""
    sockets = {}
    server = waitress.create_server(app, map=sockets, **options(config))
    for listener in sockets.values():
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = EnvelopeChannel
    return server


def _allow_open_files(connection_limit):
    """Raises this process's open-file limit to what CONNECTION_LIMIT needs, when the system lets it."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return
    needed = connection_limit + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ConfigError(
            f"CONNECTION_LIMIT={connection_limit} needs {needed} open files, this process may open {hard}: "
            "lower CONNECTION_LIMIT or raise the limit (ulimit -n, systemd LimitNOFILE=)"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _cannot_listen(error, host, port):
    if error.errno == errno.EADDRINUSE:
        return f"PORT {port} on {host} is already in use: stop the other server or set PORT to a free one"
    if error.errno == errno.EACCES:
        return f"PORT {port} on {host} needs privileges: use a port above 1023 (nginx in front listens on 443)"
    return f"HOST {host} PORT {port}: cannot listen there ({error.strerror or error}): set HOST to an address of this machine"


def serve(app):
    """Serves until interrupted; ConfigError (one line) when it cannot start."""
    config = app.config
    _allow_open_files(config["CONNECTION_LIMIT"])
    try:
        server = create_server(app, config)
    except OSError as error:
        raise ConfigError(_cannot_listen(error, config["HOST"], config["PORT"])) from None
    server.print_listen("Serving on http://{}:{}")
    from . import start_line

    # Several addresses (HOST=localhost: IPv4 and IPv6) share one port; only one address has effective_port.
    app.logger.info(start_line(app, getattr(server, "effective_port", None) or server.effective_listen[0][1]))
    server.run()
