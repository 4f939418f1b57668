"""The `service` blueprint: version and health, for monitors and deploy scripts."""
from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from . import __version__
from .database import AHEAD, BEHIND, not_migrated, schema_state
from .errors import UNAVAILABLE, ApiError
from .evaluation import current_bank
from .envelope import ok
from .extensions import db

bp = Blueprint("service", __name__, url_prefix="/api")


@bp.get("/version")
def version():
    return ok({"version": __version__, "questions_version": current_bank().version})


@bp.get("/health")
def health():
    """The database answers and is at this code's schema, or a newer one (a staged upgrade: the data says
    so): one query, as cheap as SELECT 1."""
    try:
        state, problem = schema_state(db.session)
    except SQLAlchemyError:
        raise ApiError(503, UNAVAILABLE, {"database": "unavailable"}) from None
    if state == BEHIND:
        raise ApiError(503, UNAVAILABLE, {"database": "not migrated"}, cause=not_migrated(problem))
    return ok({"database": "ok", "schema": "ahead"} if state == AHEAD else {"database": "ok"}, "ok")
