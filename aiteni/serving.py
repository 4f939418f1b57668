"""How `python wsgi.py` serves: waitress, with limits idle or hostile clients cannot exhaust.

- CONNECTION_LIMIT connections at once, idle ones included (waitress's default,
  100, let 120 idle sockets lock everyone else out); the event loop uses poll(),
  which is not capped at 1024 descriptors as select() is. Worker threads never
  wait on a slow client: waitress reads a whole request before a thread sees it.
- A connection idle for CHANNEL_TIMEOUT seconds is closed.
- A body over MAX_CONTENT_LENGTH is refused as soon as its Content-Length is
  read, and a chunked one as soon as it grows past it, so no big body is ever
  read, let alone spooled to disk (waitress's own limit is 1 GB).
- Behind PROXY_FIX_X_FOR proxies waitress passes X-Forwarded-For on for
  ProxyFix to read (it clears it by default); with none trusted it clears it.

Those are waitress's public settings. Where it has none, waitress_patches.py
subclasses its internals, on the pinned waitress only (pins.py): its refusals
answer the JSON envelope, a request with both Content-Length and
Transfer-Encoding closes its connection, and Ctrl+C (NSSM's stop, SIGINT) lets
the requests in progress finish, a login waiting WECHAT_TIMEOUT on WeChat
included, where waitress waits 5 s.
"""
import atexit
import ctypes
import errno
import socket
import sys

import waitress
from sqlalchemy.engine import make_url

from . import ConfigError, __version__, pins

# How much longer than WECHAT_TIMEOUT, the slowest a request may be, a stopping server waits for them.
STOP_MARGIN_SECONDS = 2

# Descriptors beside the connections: listening socket, waitress's trigger, database pool, log files.
SPARE_FILES = 64


# Windows' exclusive binding (winsock2.h: ~SO_REUSEADDR); the socket module has it only there.
SO_EXCLUSIVEADDRUSE = getattr(socket, "SO_EXCLUSIVEADDRUSE", -5)
# Windows' error for a port it reserves (Hyper-V, WSL, Docker ranges) or another program holds exclusively.
WSAEACCES = 10013


def bind_options(platform=sys.platform):
    """The socket options of the listening socket, chosen for `platform`.

    waitress sets SO_REUSEADDR everywhere. On POSIX that only lets a restarted server
    bind over connections in TIME_WAIT; on Windows it lets a second server bind a port
    another one is listening on, and steal part of its connections. Windows gets
    SO_EXCLUSIVEADDRUSE instead: the second server is refused.
    """
    if platform == "win32":
        return [(socket.SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1)]
    return [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]


def listening_sockets(host, port, platform=sys.platform):
    """Sockets bound to every address of `host` on `port` (as waitress would bind them), with bind_options;
    OSError when one cannot be bound."""
    sockets = []
    # getaddrinfo may answer the same address twice (a repeated hosts entry): bound twice, the second bind
    # would fail as if the port were taken. waitress drops the repeats too.
    found = dict.fromkeys(socket.getaddrinfo(
        host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE
    ))
    try:
        for family, kind, proto, _, address in found:
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            for level, name, value in bind_options(platform):
                sock.setsockopt(level, name, value)
            sock.bind(address)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def stop_seconds(config):
    """How long a stopping `python wsgi.py` waits for requests in progress."""
    return config["WECHAT_TIMEOUT"] + STOP_MARGIN_SECONDS


def options(config):
    """waitress's settings for this app's config (where it listens is listening_sockets' job)."""
    return {
        # No "threads": create_server gives THREADS to the dispatcher, the patched one or waitress's own.
        "connection_limit": config["CONNECTION_LIMIT"],
        "channel_timeout": config["CHANNEL_TIMEOUT"],
        # Idle connections are looked for this often, so one is closed at most a third late.
        "cleanup_interval": max(1, config["CHANNEL_TIMEOUT"] // 3),
        "asyncore_use_poll": True,
        # waitress refuses a body of its limit or more, Flask one over MAX_CONTENT_LENGTH: +1 makes them agree.
        "max_request_body_size": config["MAX_CONTENT_LENGTH"] + 1,
        "ident": "aiteni",
        # ProxyFix (create_app) is the one reader of X-Forwarded-For; waitress would clear it first.
        "clear_untrusted_proxy_headers": not config["PROXY_FIX_X_FOR"],
    }


def create_server(app, config, waitress_version=None):
    """A waitress server for `app`, listening, not yet serving; OSError when it cannot listen.

    waitress_patches' envelope, framing and patient stop on the pinned waitress (`waitress_version` stands in
    for the installed one); on another, waitress's stock server with the same settings.
    """
    listening = listening_sockets(config["HOST"], config["PORT"])
    patch = "the envelope for its refusals, the close after an ambiguous body length, the patient stop"
    if not pins.pinned("waitress", patch, waitress_version):
        return waitress.create_server(app, sockets=listening, threads=config["THREADS"], **options(config))
    from . import waitress_patches

    return waitress_patches.create_server(app, listening, config["THREADS"], stop_seconds(config), options(config))


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


def cannot_listen(error, host, port, platform=sys.platform):
    """The one line for an OSError of binding HOST:PORT."""
    if error.errno == errno.EADDRINUSE:
        return f"PORT {port} on {host} is already in use: stop the other server or set PORT to a free one"
    if platform == "win32" and error.errno in (errno.EACCES, WSAEACCES):
        # Windows has no privileged ports: this is a reserved range, or a program holding the port exclusively.
        return (
            f"PORT {port} on {host} is reserved by Windows or held by another program: "
            "`netsh interface ipv4 show excludedportrange protocol=tcp` lists the reserved ranges (Hyper-V, WSL, "
            f"Docker), `netstat -ano | findstr :{port}` the program; set PORT to a free port outside them"
        )
    if error.errno == errno.EACCES:
        return f"PORT {port} on {host} needs privileges: use a port above 1023 (nginx in front listens on 443)"
    return f"HOST {host} PORT {port}: cannot listen there ({error.strerror or error}): set HOST to an address of this machine"


# SetConsoleMode flags (Windows): QuickEdit lets a click select text, which pauses every write to the
# console until Esc; setting the mode needs EXTENDED_FLAGS too.
ENABLE_QUICK_EDIT_MODE = 0x0040
ENABLE_EXTENDED_FLAGS = 0x0080
STD_INPUT_HANDLE = -10


def quick_edit_off(platform=sys.platform, kernel32=None):
    """Turns QuickEdit off in the console `python wsgi.py` runs in (Windows), so a stray click cannot pause it.

    Logging no longer waits on the console (logs.ConsoleHandler); this keeps the console itself
    showing lines. True when it was switched off; False elsewhere and without a console (a service).
    """
    if platform != "win32":
        return False
    kernel32 = kernel32 or ctypes.windll.kernel32
    handle = kernel32.GetStdHandle(STD_INPUT_HANDLE)
    mode = ctypes.c_uint32()
    if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)) or not mode.value & ENABLE_QUICK_EDIT_MODE:
        return False
    if not kernel32.SetConsoleMode(handle, (mode.value | ENABLE_EXTENDED_FLAGS) & ~ENABLE_QUICK_EDIT_MODE):
        return False
    # The console is the operator's (cmd.exe goes on after the server): give QuickEdit back at exit.
    atexit.register(kernel32.SetConsoleMode, handle, mode.value | ENABLE_EXTENDED_FLAGS)
    return True


def start_line(app, port):
    """What `python wsgi.py` serves on `port`, in one line: version, mode, database (no password), dev login, docs."""
    config = app.config
    database = make_url(config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    host = f"[{config['HOST']}]" if ":" in config["HOST"] else config["HOST"]
    docs = f"http://{host}:{port}/api/docs" if config["API_DOCS"] else "off (API_DOCS=0)"
    return (f"aiteni {__version__} ({config['ENV_NAME']}): database {database}, "
            f"dev login {'on' if config['WECHAT_DEV_LOGIN'] else 'off'}, docs {docs}")


def serve(app):
    """Serves until interrupted; ConfigError (one line) when it cannot start."""
    config = app.config
    _allow_open_files(config["CONNECTION_LIMIT"])
    try:
        server = create_server(app, config)
    except OSError as error:
        raise ConfigError(cannot_listen(error, config["HOST"], config["PORT"])) from None
    quick_edit_off()
    server.print_listen("Serving on http://{}:{}")
    # Several addresses (HOST=localhost: IPv4 and IPv6) share one port (PORT=0: the first one's); only one
    # address has effective_port.
    app.logger.info(start_line(app, getattr(server, "effective_port", None) or server.effective_listen[0][1]))
    server.run()
