"""The audit log: every change made through the console or its commands, and every failed sign-in.

`record` adds the entry to the caller's transaction, so a change and its entry
are committed together or not at all.
"""
import sqlalchemy as sa

from ..extensions import db
from .models import AdminAudit
from .paging import newest_first
# The command line's changes are made by whoever runs them on the server.
CLI = "cli"

ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "account_locked": "账号锁定",
    "address_locked": "地址锁定",
    "logout": "退出",
    "account_created": "创建账号",
    "account_disabled": "停用账号",
    "account_enabled": "启用账号",
    "password_changed": "修改密码",
    "player_deleted": "删除用户",
    "sessions_revoked": "注销用户会话",
    "export": "导出记录",
}


def record(actor, action, target="", detail="", address=None):
    """Adds one entry to the session's transaction; the caller commits it with its change."""
    assert action in ACTIONS, action
    db.session.add(AdminAudit(actor=actor[:32], action=action, target=str(target)[:64], detail=detail[:500],
                              address=address))


def page(before=None):
    """A page of entries, newest first, older than the entry id `before`; and the id to go on from, or None."""
    return newest_first(sa.select(AdminAudit), AdminAudit.id, before)


def count_since(action, address, since):
    """Entries of `action` from `address` since `since` (the address lockout: its failures, its lock)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AdminAudit).where(
            AdminAudit.address == address, AdminAudit.action == action, AdminAudit.created_at > since
        )
    )
