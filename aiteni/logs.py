"""Logging: daily files, stderr, one line per request, and no secret in any of them."""
import logging
import queue
import re
import sys
import threading
import time
from pathlib import Path

from flask import has_request_context, request

from . import ConfigError, logdir

log = logging.getLogger("aiteni.request")

# WSGI environ keys the request line reads: who the caller is, and what `note()` added.
USER_ID = "aiteni.user_id"
FIELDS = "aiteni.log_fields"

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

# Lines waiting for a console that is not being read (a Windows console in QuickEdit selection,
# a pipe nobody reads): past this many, new lines are dropped and counted, never waited for.
CONSOLE_BACKLOG = 1000
# How long the process waits at exit for the console to take its last lines.
CONSOLE_FLUSH_SECONDS = 1.0

# Patterns of things that must never reach a log line, whatever code logged them, each with
# the words (lower case) one of which a text must contain for the pattern to match at all:
# checking those first spares every request line the ~10 µs of the case-blind key search.
_MASKS = [
    # JWTs (three base64url parts, the first a JSON header)
    (("eyj",), re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[jwt]"),
    # our opaque refresh tokens
    (("rt_",), re.compile(r"rt_[A-Za-z0-9_-]{16,}"), "rt_***"),
    # key=value / "key": "value" pairs, e.g. requests' URL in an exception text
    (
        ("secret", "session_key", "js_code", "token", "password", "authorization"),
        re.compile(
            r"(?i)(secret|appsecret|session_key|js_code|refresh_?token|access_?token|password|authorization)"
            r"""(["']?\s*[:=]\s*["']?(?:bearer\s+)?)([^&\s"',}]+)"""
        ),
        r"\1\2***",
    ),
]


# Characters that end a line for some reader or rewrite what a terminal shows: the C0 and C1
# controls (newline, carriage return, NEL U+0085, the ESC of ANSI sequences), DEL, Unicode's
# line and paragraph separators, and the bidirectional overrides and isolates.
# A traceback keeps its newlines, which separate its lines.
_UNSAFE_BUT_NEWLINE = r"\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_IN_LINE = re.compile(f"[\n{_UNSAFE_BUT_NEWLINE}]")
_UNSAFE_IN_BLOCK = re.compile(f"[{_UNSAFE_BUT_NEWLINE}]")


def _escape(match):
    return match.group().encode("unicode_escape").decode()


def one_line(text):
    """`text` with every unsafe character written as its Python escape (`\\n`, `\\x1b`, `\\u2028`)."""
    return _UNSAFE_IN_LINE.sub(_escape, text)


def indented_block(text):
    """A traceback, its lines kept but each indented: no line of it can pass for a record of its own."""
    return "  " + _UNSAFE_IN_BLOCK.sub(_escape, text).replace("\n", "\n  ")


class SecretMaskFilter(logging.Filter):
    """Rewrites each record safe to write: secrets masked, and one line, whatever a client sent.

    Every handler carries it, so every value that reaches a line (the request
    line's path and address, `note()`'s fields, WeChat's answers, exception
    texts) is escaped here, in one place: a record's message is one line, and
    its traceback, the only text allowed more, is indented under it.
    """

    def __init__(self, secrets=()):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def mask(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "***")
        lowered = text.lower()
        for words, pattern, replacement in _MASKS:
            if any(word in lowered for word in words):
                text = pattern.sub(replacement, text)
        return text

    def filter(self, record):
        # Every handler carries this filter; the first one to see a record masks it for all.
        if getattr(record, "masked", False):
            return True
        record.masked = True
        record.msg = one_line(self.mask(record.getMessage()))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = indented_block(self.mask(record.exc_text))
        if record.stack_info:
            record.stack_info = indented_block(self.mask(record.stack_info))
        return True


class LineFormatter(logging.Formatter):
    """Formats a record once for all the handlers that share it: the console and the info file write the same
    line (logging formats it anew for each handler: its time, its fields, a sixth of the request line's cost)."""

    def format(self, record):
        made = record.__dict__.get("aiteni_line")
        if made is None or made[0] is not self:
            made = record.aiteni_line = (self, super().format(record))
        return made[1]


def log_dir(app):
    """The folder of the daily files (LOG_DIR, relative to the checkout), or None: stderr only."""
    return Path(app.root_path).parent / app.config["LOG_DIR"] if app.config["LOG_DIR"] else None


def daily_files(directory, prefix, day):
    """Every process's `prefix` file of `day` (YYYY-MM-DD, local time): the plain name of the process that
    owns the folder, then the `.<pid>` names of the others (logdir.file_suffix)."""
    return sorted(Path(directory).glob(f"{prefix}-{day}*.log"), key=lambda path: (len(path.name), path.name))


class DailyFileHandler(logging.Handler):
    """Writes to `<prefix>-YYYY-MM-DD<suffix>.log`, opening the next file when the day changes.

    No renaming (unlike TimedRotatingFileHandler), so it also works on Windows,
    where an open file cannot be renamed.
    """

    def __init__(self, directory, prefix, level, suffix=""):
        super().__init__(level)
        self.directory = Path(directory)
        self.prefix = prefix
        self.suffix = suffix
        self.day = None
        self.stream = None

    def _stream_for_today(self):
        day = time.strftime("%Y-%m-%d")
        if day != self.day:
            if self.stream:
                self.stream.close()
            self.directory.mkdir(parents=True, exist_ok=True)
            self.stream = open(self.directory / f"{self.prefix}-{day}{self.suffix}.log", "a", encoding="utf-8")
            self.day = day
        return self.stream

    def emit(self, record):
        try:
            message = self.format(record)
            with self.lock:
                stream = self._stream_for_today()
                stream.write(message + "\n")
                stream.flush()
        except Exception:
            self.handleError(record)

    def close(self):
        with self.lock:
            if self.stream:
                self.stream.close()
                self.stream = None
        super().close()


class ConsoleHandler(logging.Handler):
    """stderr behind a bounded queue and a thread of its own: a request never waits on the console.

    A console that is not read (one click in a Windows console in QuickEdit mode,
    a full pipe) blocks the write; with a plain StreamHandler that write, under the
    handler's lock, stopped every thread that logs, and with them the server. Lines
    past CONSOLE_BACKLOG are dropped and counted; once the console takes lines again,
    one line says how many it missed. The files get every line.
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream or sys.stderr
        self.lines = queue.Queue(CONSOLE_BACKLOG)
        self.dropped = 0
        # Not the handler's lock: logging.shutdown holds that while flush() waits for the writer.
        self.dropped_lock = threading.Lock()
        threading.Thread(target=self._write_lines, name="aiteni-console", daemon=True).start()

    def emit(self, record):
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self.lines.put_nowait(line)
        except queue.Full:
            with self.dropped_lock:
                self.dropped += 1

    def _write_lines(self):
        while (line := self.lines.get()) is not None:
            with self.dropped_lock:
                dropped, self.dropped = self.dropped, 0
            try:
                if dropped:
                    self.stream.write(f"{dropped} lines were not written to the console, which was not being read "
                                      "(the log files have them)\n")
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # the console is gone (closed, or its pipe broken): nothing to tell
                pass
            self.lines.task_done()
        self.lines.task_done()

    def flush(self):
        """Waits a moment for the console to take the queued lines (logging.shutdown calls this at exit)."""
        deadline = time.monotonic() + CONSOLE_FLUSH_SECONDS
        while self.lines.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self):
        try:
            self.lines.put_nowait(None)
        except queue.Full:  # the thread is stuck on a console nobody reads; it is a daemon
            pass
        super().close()


def note(logger, **fields):
    """Adds `key=value` facts to the current request's line; outside a request they get a line of their own.

    One line per request that says everything it did (a login's WeChat call,
    the user it created) is easier to read than several, and each line written
    costs a request ~80 µs under load.
    """
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    if not has_request_context():
        logger.info(text)
        return
    environ = request.environ
    environ[FIELDS] = f"{environ[FIELDS]} {text}" if FIELDS in environ else text


def configure_logging(app):
    """Root handlers for stderr and the daily files, each behind the secret mask."""
    config = app.config
    mask = SecretMaskFilter([config["WECHAT_APPSECRET"], config["JWT_SECRET"], config["SECRET_KEY"]])
    handlers = [ConsoleHandler()]
    directory = log_dir(app)
    if directory is not None:
        try:
            suffix = logdir.file_suffix(directory)  # another process writes the plain names: files of our own
        except OSError as error:
            # A server that cannot log must not run.
            raise ConfigError(f"LOG_DIR {directory}: cannot write log files there ({error.strerror}): "
                              "create it, or give the account aiteni runs as write access to it") from None
        handlers.append(DailyFileHandler(directory, "info", logging.INFO, suffix))
        handlers.append(DailyFileHandler(directory, "error", logging.ERROR, suffix))

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "aiteni", False)]:
        root.removeHandler(old)
        old.close()
    formatter = LineFormatter(FORMAT)
    for handler in handlers:
        handler.aiteni = True
        handler.setFormatter(formatter)
        handler.addFilter(mask)
        root.addHandler(handler)
    root.setLevel(config["LOG_LEVEL"])
    app.wsgi_app = RequestLogMiddleware(app.wsgi_app)


def log_request(method, path, status, ms, user, ip, extra="", level=logging.INFO):
    """The request line, one per request: `GET /api/health 200 1.5ms user=- ip=127.0.0.1[ extra]`
    (`ms` None: `-`, a request refused before it was timed)."""
    log.log(level, "%s %s %s %s user=%s ip=%s%s", method, path, status, "-" if ms is None else f"{ms:.1f}ms",
            user, ip, f" {extra}" if extra else "")


class RequestLogMiddleware:
    """One line per request, written when the status is known.

    A WSGI wrapper rather than Flask hooks: it costs one clock read and one
    log call, and sees requests that never reach a view.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()

        def start_and_log(status, headers, exc_info=None):
            log_request(environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), status[:3],
                        (time.perf_counter() - started) * 1000, environ.get(USER_ID, "-"),
                        environ.get("REMOTE_ADDR"), environ.get(FIELDS))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_and_log)
