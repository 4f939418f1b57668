"""The development stand-in for WeChat (WECHAT_DEV_LOGIN): logins without it, and without credentials its share
codes and phone numbers too."""
import hashlib
import io

from ..schemas.fields import PHONE
from .client import WeChatSession
from .errors import InvalidPhoneCode


class DevWeChatClient:
    """What WECHAT_DEV_LOGIN installs: the code itself names the user (same code, same user).

    With WeChat credentials, share codes and phone numbers still come from
    WeChat (`server`). Without, it stands in for them too: a share code is a
    plain QR code of its path, drawn here, and a phone code that is a mainland
    mobile number is that number.
    """

    def __init__(self, server=None):
        self.server = server
        self.appid = server.appid if server else ""

    def code2session(self, code):
        return WeChatSession(openid="dev_" + hashlib.sha256(code.encode()).hexdigest()[:28], session_key="dev")

    def share_code(self, code, env_version, check_path, deadline):
        if self.server:
            return self.server.share_code(code, env_version, check_path, deadline)
        import segno  # 30 ms to import, for development only

        qr = segno.make(code.path, micro=False)
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=max(1, code.width // qr.symbol_size(scale=1)[0]))
        return "image/png", buffer.getvalue()

    def phone_number(self, code):
        if self.server:
            return self.server.phone_number(code)
        if not PHONE.fullmatch(code):
            raise InvalidPhoneCode("WECHAT_DEV_LOGIN without credentials: a phone code is the mainland number itself")
        return code
