"""WeChat's server-side calls across real server processes: one access token, one call per share code,
forced renewals 30 s apart, and neither token nor secret in any log file."""
import time
from pathlib import Path

import pytest
import requests

from tests.helpers.clients import at_once
from tests.helpers.servers import waitress_process
from tests.wechat.test_share import POSTER

BUSY = {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
UNAVAILABLE = {"code": 502, "msg": "微信服务暂不可用，请稍后再试"}


def poster(base, record=7):
    return requests.post(f"{base}/api/generate_qrcode", json={**POSTER, "path": f"pages/result/result?resultId={record}"},
                         timeout=15)


@pytest.mark.slow
def test_two_processes_share_one_token_one_code_and_the_force_quota(each_database, fake_wechat, tmp_path):
    settings = {"SQLALCHEMY_DATABASE_URI": each_database, "WECHAT_API_BASE": fake_wechat.base_url,
                "LOG_LEVEL": "DEBUG"}
    fake_wechat.delays.update(stable_token=0.3, getwxacodeunlimit=0.3)  # long enough for the requests to overlap
    with waitress_process({**settings, "LOG_DIR": str(tmp_path / "a")}) as a, \
            waitress_process({**settings, "LOG_DIR": str(tmp_path / "b")}) as b:
        first = at_once([lambda base=base: poster(base) for base in (a, b, a, b)])
        assert [r.status_code for r in first] == [200] * 4
        assert {r.content for r in first} == {fake_wechat.image}
        assert len(fake_wechat.token_calls) == 1 and len(fake_wechat.code_calls) == 1

        assert [poster(a, 8).status_code, poster(b, 9).status_code] == [200, 200]
        assert len(fake_wechat.token_calls) == 1 and len(set(fake_wechat.used)) == 1

        fake_wechat.expire_tokens()
        assert poster(a, 10).status_code == 200  # refused, renewed by force, made again
        assert len(fake_wechat.forced) == 1 and len(fake_wechat.issued) == 2
        assert poster(b, 11).status_code == 200  # b takes the new token from the database
        fake_wechat.expire_tokens()
        assert poster(b, 12).json() == BUSY  # a second force within 30 s: not from b either
        assert poster(a, 13).json() == BUSY
        assert len(fake_wechat.forced) == 1

    logs = "".join(path.read_text(encoding="utf-8") for path in tmp_path.glob("[ab]/*.log"))
    assert "getwxacodeunlimit" in logs
    assert [s for s in [*fake_wechat.issued, fake_wechat.SECRET] if s in logs] == []


@pytest.mark.slow
def test_a_silent_wechat_answers_the_poster_before_the_clients_10_seconds(slow_wechat, database_url, tmp_path):
    """WECHAT_TIMEOUT is 10 s; the client gives each try 10 s: the share answers 502 before."""
    slow_wechat.pace = lambda reply: [(None, b"")]
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "WECHAT_API_BASE": slow_wechat.base_url,
                "LOG_DIR": str(tmp_path / "logs")}
    with waitress_process(settings) as base:
        started = time.monotonic()
        response = poster(base)
        seconds = time.monotonic() - started
    assert response.json() == UNAVAILABLE and seconds < 9
    error_log = "".join(p.read_text(encoding="utf-8") for p in Path(tmp_path / "logs").glob("error-*.log"))
    assert "no complete reply" in error_log
