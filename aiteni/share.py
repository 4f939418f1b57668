"""The `share` blueprint: the mini-program code on the result page's share poster, each made once and kept.

A code costs a WeChat call only the first time: its image is stored by
(AppID, page, scene, width, env_version), and the first request for it claims
its row (INSERT), so concurrent first requests, whatever their process, make
one call while the others wait for the image.
"""
import logging
import time

import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlalchemy.exc import IntegrityError

from . import logs
from .database import write_transaction
from .extensions import db
from .inputs import json_body
from .models import WeChatShareCode, utcnow
from .schemas.share import DEFAULT_WIDTH, MAX_WIDTH, MIN_WIDTH, WELCOME_PAGE, ShareCode
from .wechat import CodeRequest, Unavailable
from .wechat.lease import POLL_SECONDS, lease_lapsed, lease_until

log = logging.getLogger(__name__)

bp = Blueprint("share", __name__, url_prefix="/api")

# WeChat wants a scene on every code; the welcome page reads none.
WELCOME_SCENE = "from=share"
# The client gives each try 10 s: the answer, image or error, leaves before that.
SHARE_SECONDS = 8.0

_TABLE = WeChatShareCode.__table__


def share_code(body):
    """The code a poster asks for (schemas.share.ShareCode): the scene is the record's query,
    `resultId=<id>`; a missing (or null) width is WeChat's default, 430."""
    if body.path == WELCOME_PAGE:
        page, scene = WELCOME_PAGE, WELCOME_SCENE
    else:
        page, _, scene = body.path.partition("?")
    width = DEFAULT_WIDTH if body.width is None else min(max(round(body.width), MIN_WIDTH), MAX_WIDTH)
    return CodeRequest(page, scene, width, body.path)


@bp.post("/generate_qrcode")
def generate_qrcode():
    """The image itself (JPEG or PNG), never JSON: the client saves any 200 as the poster's picture."""
    content_type, image = _image(share_code(ShareCode.read(json_body())))
    return Response(image, content_type=content_type)


def _image(code):
    """The stored image of `code`, or the one this request or another makes now: (content type, bytes)."""
    config = current_app.config
    wechat = current_app.extensions["wechat"]
    production = config["ENV_NAME"] == "production"
    env_version = "release" if production else config["WECHAT_ENV_VERSION"]
    key = {"appid": wechat.appid, "page": code.page, "scene": code.scene, "width": code.width,
           "env_version": env_version}
    where = [_TABLE.c[name] == value for name, value in key.items()]
    deadline = time.monotonic() + min(config["WECHAT_TIMEOUT"], SHARE_SECONDS)
    while True:
        with db.engine.connect() as connection:
            row = connection.execute(
                sa.select(_TABLE.c.content_type, _TABLE.c.image).where(*where)
            ).first()
        if row is not None and row.image is not None:
            logs.note(log, share_code="stored")
            return row.content_type, row.image
        lease = _claim(key, where, row is None, deadline)
        if lease:
            return _make(wechat, code, env_version, production, where, lease, deadline)
        if time.monotonic() + POLL_SECONDS >= deadline:
            raise Unavailable("the share code another request is making did not arrive within the deadline")
        time.sleep(POLL_SECONDS)


def _claim(key, where, new, deadline):
    """Makes this request the one that asks WeChat: its lease (when the claim lapses), or None."""
    now = utcnow()
    lease = lease_until(now, deadline)
    try:
        with write_transaction() as connection:
            if new:
                connection.execute(_TABLE.insert().values(**key, claimed_until=lease, created_at=now))
                return lease
            # The claim of a request that died before storing the image lapses (or one from before a clock step).
            claimed = connection.execute(
                _TABLE.update()
                .where(*where, _TABLE.c.image.is_(None), lease_lapsed(_TABLE.c.claimed_until, now, deadline))
                .values(claimed_until=lease)
            ).rowcount
    except IntegrityError:  # another request claimed it first
        return None
    return lease if claimed == 1 else None


def _make(wechat, code, env_version, check_path, where, lease, deadline):
    """Asks WeChat (or the dev stand-in) for the code and stores it; on failure drops the claim."""
    try:
        content_type, image = wechat.share_code(code, env_version, check_path, deadline)
    except Exception:
        with write_transaction() as connection:
            connection.execute(_TABLE.delete().where(*where, _TABLE.c.claimed_until == lease))
        raise
    with write_transaction() as connection:
        connection.execute(
            _TABLE.update().where(*where).values(content_type=content_type, image=image, claimed_until=None)
        )
    logs.note(log, share_code="made")
    return content_type, image
