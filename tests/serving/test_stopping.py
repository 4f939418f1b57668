"""Stopping `python wsgi.py` as NSSM does (Ctrl+C, SIGINT on Linux): what is in progress is answered first,
and the process exits 0."""
import json
import signal
import sys
import threading
import time

import pytest
import requests
from werkzeug import Response

from tests.helpers.wsgi_process import clean_env, wsgi_server

PROFILE = {"nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT; Windows sends Ctrl+C instead")


@pytest.mark.parametrize("wechat_seconds", [8])  # over waitress's own 5 s wait for busy threads, under WECHAT_TIMEOUT
def test_an_interrupt_during_a_slow_login_still_answers_it_and_exits_0(database_url, fake_wechat, tmp_path,
                                                                       wechat_seconds):
    def slow(request):
        time.sleep(wechat_seconds)
        return Response(json.dumps({"openid": "o_slow", "session_key": "SKslowsessionkey=="}), content_type="text/plain")

    fake_wechat.reply(slow)
    env = clean_env(DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs", PORT=0, WECHAT_APPID=fake_wechat.APPID,
                    WECHAT_APPSECRET=fake_wechat.SECRET, WECHAT_API_BASE=fake_wechat.base_url)
    with wsgi_server(env) as server:
        answers = []

        def login():
            answers.append(requests.post(f"{server.base_url}/api/auth/login", json={"code": "slow", **PROFILE},
                                         timeout=30))

        waiting = threading.Thread(target=login)
        waiting.start()
        time.sleep(1)  # the login is waiting on WeChat
        server.process.send_signal(signal.SIGINT)
        waiting.join(30)
        exit_code = server.process.wait(timeout=30)
    assert [answer.status_code for answer in answers] == [200]
    assert answers[0].json()["msg"] == "登录成功"
    assert exit_code == 0, server.stderr()[-5:]
