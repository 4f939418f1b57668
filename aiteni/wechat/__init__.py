"""Everything that knows WeChat (client.py, for now all of it). Callers take what they use from here."""
from .client import (
    HINTS, POLL_SECONDS, AccountAtRisk, CodeRequest, DevWeChatClient, InvalidCode, InvalidPhoneCode, MisConfigured,
    Overloaded, RateLimited, Unavailable, WeChatClient, lease_lapsed, lease_until,
)

__all__ = [
    "init_app", "CodeRequest", "HINTS", "POLL_SECONDS", "lease_lapsed", "lease_until",
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
