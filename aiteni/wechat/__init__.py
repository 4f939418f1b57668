"""Everything that knows WeChat: its errors and errcodes (errors.py), the HTTP read by a deadline (transport.py),
the calls (client.py), the shared access token (token.py) and the leases it and share codes are made under
(lease.py), and the development stand-in (dev.py).

Callers take what they use from here; the rest stays in its module.
"""
from .client import CodeRequest, WeChatClient
from .dev import DevWeChatClient
from .errors import (
    HINTS, AccountAtRisk, InvalidCode, InvalidPhoneCode, MisConfigured, Overloaded, RateLimited, Unavailable,
)

__all__ = [
    "init_app", "CodeRequest", "HINTS",
    "AccountAtRisk", "InvalidCode", "InvalidPhoneCode", "MisConfigured", "Overloaded", "RateLimited", "Unavailable",
]


def init_app(app):
    """WeChat itself; with WECHAT_DEV_LOGIN the dev stand-in, calling WeChat only for what credentials allow."""
    config = app.config
    credentials = config["WECHAT_APPID"] and config["WECHAT_APPSECRET"]
    client = None
    if credentials or not config["WECHAT_DEV_LOGIN"]:
        client = WeChatClient(
            config["WECHAT_APPID"],
            config["WECHAT_APPSECRET"],
            config["WECHAT_API_BASE"],
            config["WECHAT_TIMEOUT"],
            config["WECHAT_PROXY"],
            config["WECHAT_CONCURRENCY"],
        )
    app.extensions["wechat"] = DevWeChatClient(client) if config["WECHAT_DEV_LOGIN"] else client
