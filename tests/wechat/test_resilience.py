"""WeChat slow, silent or flooding: a login answers by its deadline, and logins waiting on WeChat leave threads free."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from aiteni import wechat
from tests.helpers.servers import waitress_process

PROFILE = {"nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}
UNAVAILABLE = {"code": 502, "msg": "微信服务暂不可用，请稍后再试"}
BUSY = {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
TIMEOUT = 1.5


def head_length(reply):
    return reply.index(b"\r\n\r\n") + 4


def byte_by_byte(reply, start=0, every=0.05):
    """Sends reply[:start] at once, then the rest a byte every `every` seconds."""
    return [(0, reply[:start])] + [(every, reply[n:n + 1]) for n in range(start, len(reply))]


SILENCE = (None, b"")
PACES = {
    "every-byte-trickles": byte_by_byte,
    "body-trickles": lambda reply: byte_by_byte(reply, start=head_length(reply)),
    "trickles-then-silent": lambda reply: byte_by_byte(reply)[:36] + [SILENCE],
    "headers-then-silent": lambda reply: [(0, reply[:head_length(reply)]), SILENCE],
}


def pointed_at(app, slow_wechat, timeout=TIMEOUT):
    app.config.update(WECHAT_API_BASE=slow_wechat.base_url, WECHAT_TIMEOUT=timeout)
    wechat.init_app(app)
    return app.test_client()


def timed_login(client, code="slow"):
    started = time.monotonic()
    response = client.post("/api/auth/login", json={"code": code, **PROFILE})
    return response.status_code, response.get_json(), time.monotonic() - started


@pytest.mark.parametrize("pace", PACES.values(), ids=PACES.keys())
def test_a_wechat_reply_slower_than_the_deadline_is_502_by_the_deadline(app, slow_wechat, pace):
    """WECHAT_TIMEOUT bounds the whole call, reply included, not each read of it."""
    slow_wechat.pace = pace
    status, body, seconds = timed_login(pointed_at(app, slow_wechat))
    assert (status, body) == (502, UNAVAILABLE)
    assert TIMEOUT - 0.1 < seconds < TIMEOUT + 0.5
    assert slow_wechat.requests == 1


def test_retries_share_the_deadline(app, slow_wechat):
    """WeChat busy (-1), slowly: the retry gets what is left of WECHAT_TIMEOUT, not a deadline of its own."""
    slow_wechat.reply = b'{"errcode": -1, "errmsg": "system error"}'
    slow_wechat.pace = lambda reply: byte_by_byte(reply, start=head_length(reply), every=0.025)  # about 1 s
    status, body, seconds = timed_login(pointed_at(app, slow_wechat))
    assert slow_wechat.requests == 2
    assert (status, body) == (502, UNAVAILABLE)  # the second try had no complete reply in time
    assert seconds < TIMEOUT + 0.5


def test_a_slow_reply_within_the_deadline_logs_in(app, slow_wechat):
    slow_wechat.pace = lambda reply: byte_by_byte(reply, start=head_length(reply), every=0.01)
    status, body, seconds = timed_login(pointed_at(app, slow_wechat))
    assert status == 200, body
    assert seconds < TIMEOUT


def test_an_endless_reply_is_cut_off_early(app, slow_wechat):
    """WeChat's replies are small: a huge one is refused after its first bytes, not read into memory."""
    chunk = b"0" * 65536
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {1024 * len(chunk)}\r\n\r\n".encode()
    slow_wechat.pace = lambda reply: [(0, head)] + [(0, chunk)] * 1024
    status, body, seconds = timed_login(pointed_at(app, slow_wechat, timeout=10))
    assert (status, body) == (502, UNAVAILABLE)
    assert seconds < 2
    time.sleep(0.2)  # whatever the socket buffers still took in
    assert slow_wechat.sent < 16 * 1024 * 1024


def test_logins_stuck_on_wechat_leave_threads_for_everything_else(auth, client, slow_wechat, database_url, tmp_path):
    """8 waitress threads, WeChat silent: 4 logins wait on it, the next are turned away within 0.25 s, the rest answers."""
    bearer = auth.headers("alice")  # logged in before WeChat went silent
    questions = client.get("/api/evaluation/questions").get_json()["data"]["basic_questions"]
    answers = {q["id"]: q["options"][0]["id"] for q in questions}
    slow_wechat.pace = lambda reply: [SILENCE]
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WECHAT_API_BASE": slow_wechat.base_url,
        "WECHAT_TIMEOUT": 2,
        "LOG_DIR": str(tmp_path / "server-logs"),
    }
    probes = [
        ("GET", "/api/health", {}),
        ("POST", "/api/auth/verify", {"headers": bearer}),
        ("GET", "/api/evaluation/history", {"headers": bearer}),
        ("POST", "/api/evaluation/basic", {"json": {"answers": answers}}),
    ]

    def login(code):
        started = time.monotonic()
        response = requests.post(f"{base}/api/auth/login", json={"code": code, **PROFILE}, timeout=10)
        return response.status_code, response.json(), time.monotonic() - started

    with waitress_process(settings, threads=8) as base, ThreadPoolExecutor(8) as pool:
        stuck = [pool.submit(login, f"stuck-{n}") for n in range(8)]
        time.sleep(0.5)
        for method, path, kwargs in probes:
            started = time.monotonic()
            response = requests.request(method, base + path, timeout=10, **kwargs)
            assert response.status_code == 200, (path, response.text)
            assert time.monotonic() - started < 0.3, path
        assert slow_wechat.requests == 4  # WECHAT_CONCURRENCY's default
        status, body, seconds = login("one-more")
        assert (status, body) == (503, BUSY) and seconds < 0.5
        answered = sorted((f.result()[:2] for f in stuck), key=lambda answer: answer[0])
    assert answered == [(502, UNAVAILABLE)] * 4 + [(503, BUSY)] * 4
    assert slow_wechat.requests == 4  # the turned-away logins never called WeChat
    error_log = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "server-logs").glob("error-*.log"))
    assert error_log.count("ERROR") == 9 and error_log.count(" 503 ") == 5  # one line per 5xx
