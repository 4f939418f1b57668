"""The `records` blueprint: a user's own NTRP evaluation records."""
from flask import Blueprint, request
from flask_jwt_extended import current_user

from .evaluation import store
from .envelope import ok
from .errors import BadRequest
from .inputs import json_body, positive_int
from .schemas.evaluation import BAD_PAGE
from .schemas.fields import MAX_PAGE_SIZE
from .tokens import auth_required

bp = Blueprint("records", __name__, url_prefix="/api/evaluation")


@bp.post("/save")
@auth_required()
def save():
    """Stores one evaluation result for the caller."""
    record_id = store.save(current_user.id, json_body())
    return ok({"record_id": record_id}, "保存成功")


@bp.get("/history")
@auth_required()
def history():
    """One page of the caller's records, newest first."""
    page = _paging("page", "1", store.MAX_PAGE)
    page_size = _paging("page_size", "10", MAX_PAGE_SIZE)
    if page is None or page_size is None:
        raise BadRequest(BAD_PAGE)
    return ok(store.history(current_user.id, page, page_size))


def _paging(name, default, maximum):
    """The query parameter `name` as a whole number in 1..maximum, `default` when absent; None when it is
    anything else, given twice included (which one the client meant is not ours to guess)."""
    values = request.args.getlist(name) or [default]
    return positive_int(values[0], maximum) if len(values) == 1 else None


@bp.get("/result/<record_id>")
@auth_required()
def result(record_id):
    """One of the caller's records; someone else's answers like a missing one."""
    return ok(store.get(current_user.id, record_id))


@bp.delete("/delete/<record_id>")
@auth_required()
def delete(record_id):
    """Deletes one of the caller's records."""
    store.delete(current_user.id, record_id)
    return ok(msg="删除成功")
