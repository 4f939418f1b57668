"""The `service` blueprint: version and health, for monitors and deploy scripts."""
import sqlalchemy as sa
from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from . import __version__
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
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        raise ApiError(503, UNAVAILABLE, {"database": "unavailable"}) from None
    return ok({"database": "ok"}, "ok")
