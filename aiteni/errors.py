"""Every error becomes the envelope here, and only here.

Views raise `ApiError` (or let Flask raise an HTTPException); these handlers
shape the answer, so no view assembles error JSON by hand.
"""
import logging
import math
import time

from flask import Flask, request
from flask_limiter import RateLimitExceeded
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .envelope import error_response
from .extensions import limiter

log = logging.getLogger(__name__)

BAD_JSON = "请求数据格式错误"
UNAVAILABLE = "服务暂不可用"

HTTP_MESSAGES = {
    400: BAD_JSON,
    401: "请先登录",
    403: "禁止访问",
    404: "接口不存在",
    405: "请求方法不允许",
    413: "请求数据过大",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误",
    503: UNAVAILABLE,
}


class ApiError(Exception):
    """An answer for the client: HTTP status, the Chinese message it shows, optional data.

    `cause` is what the error log says about a 5xx or an operator fault, never
    sent to the client (unset: the exception this one was raised while handling).
    """

    # A fault only the operator can fix (bad credentials): logged like a 5xx, whatever the status.
    operator_fault = False

    def __init__(self, status, msg, data=None, cause=None):
        super().__init__(msg)
        self.status = status
        self.msg = msg
        self.data = data
        self.cause = cause


class BadRequest(ApiError):
    def __init__(self, msg=BAD_JSON):
        super().__init__(400, msg)


class Unauthorized(ApiError):
    def __init__(self, msg):
        super().__init__(401, msg)


class NotFound(ApiError):
    def __init__(self, msg):
        super().__init__(404, msg)


def contract_status(status):
    """The status the contract allows for an HTTP error `status`, and its message: only the contract's
    statuses go out (a static file's 416, say, becomes a 400; an unknown 5xx a 500)."""
    if status not in HTTP_MESSAGES:
        status = 500 if status >= 500 else 400
    return status, HTTP_MESSAGES[status]


def _retry_after(error):
    """Whole seconds until the window of the limit that refused this request ends."""
    try:
        resets_at = limiter.current_limit.window[0]
    except Exception:  # the storage died since it counted this request: any backend, any error
        return error.limit.limit.get_expiry()
    return max(1, math.ceil(resets_at - time.time()))


def _is_connection_error(error):
    """True when the database could not be reached (as opposed to a bad query).

    A pool timeout counts: every connection is stuck on a database that does not answer.
    """
    return isinstance(error, (OperationalError, PoolTimeout)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def _log_failure(status, msg, cause):
    """The error log's one line for an answer the operator must hear about, with its cause.

    The cause may carry text from outside (WeChat's reply, an exception's message): the
    log's filter (logs.SecretMaskFilter) masks secrets in it and keeps it on one line.
    """
    log.error("%s %s at %s: %s", status, msg, request.endpoint, cause)


def _cause(error):
    """An ApiError's own cause, or else the exception it was raised while handling."""
    if error.cause:
        return error.cause
    context = error.__cause__ or error.__context__
    if context is None:
        return "no cause given"
    context = getattr(context, "orig", context)  # a database error: the driver's message, without SQL
    return f"{type(context).__name__}: {context}"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error):
        if error.status >= 500 or error.operator_fault:
            _log_failure(error.status, error.msg, _cause(error))
        return error_response(error.status, error.msg, error.data)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error):
        status, msg = contract_status(error.code or 500)
        if status >= 500:
            _log_failure(status, msg, f"{type(error).__name__}: {error.description}")
        response = error_response(status, msg)
        # Keep headers the exception carries (405's Allow, 429's Retry-After).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if isinstance(error, RateLimitExceeded):
            response.headers["Retry-After"] = str(_retry_after(error))
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        from .database import missing_schema, not_migrated  # database.py imports this module

        # Before the connection check: SQLite reports a missing table as an OperationalError.
        problem = isinstance(error, DBAPIError) and missing_schema(error)
        if problem:
            _log_failure(503, UNAVAILABLE, not_migrated(problem))
            return error_response(503, UNAVAILABLE)
        if _is_connection_error(error):
            log.error("database unavailable: %s", getattr(error, "orig", error))
            return error_response(503, UNAVAILABLE)
        log.exception("unhandled error")
        return error_response(500, HTTP_MESSAGES[500])
