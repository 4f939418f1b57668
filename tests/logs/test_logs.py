"""Daily log files, the per-request line, and secrets masked before they reach a file."""
import logging
import re
import time

import requests

from aiteni.logs import SecretMaskFilter


def read_logs(tmp_path, prefix):
    day = time.strftime("%Y-%m-%d")
    return (tmp_path / "logs" / f"{prefix}-{day}.log").read_text(encoding="utf-8")


def test_one_line_per_request_in_the_daily_info_file(client, auth, tmp_path):
    headers = auth.headers("logger")
    client.get("/api/user/info", headers=headers, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    info = read_logs(tmp_path, "info")
    line = next(line for line in info.splitlines() if "GET /api/user/info" in line)
    assert re.search(r"GET /api/user/info 200 \d+\.\dms user=\d+ ip=10\.1\.2\.3$", line)
    assert not list((tmp_path / "logs").glob("error-*.log"))


def test_a_login_is_one_line_with_its_wechat_call_and_the_user_it_made(client, fake_wechat, tmp_path):
    answer = {"openid": "o_linetest1", "session_key": "SKlinetest==", "errmsg": "ok, rid: 9-8-7"}
    fake_wechat.reply(answer, answer)
    body = {"code": "c1", "nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}
    first = client.post("/api/auth/login", json=body).get_json()["data"]["userInfo"]["id"]
    client.post("/api/auth/login", json=body)
    ours = [line for line in read_logs(tmp_path, "info").splitlines() if "[aiteni." in line]
    logins = [line for line in ours if "/api/auth/login" in line]
    call = r"jscode2session=\d+ms errcode=0 rid=9-8-7 openid=o_li\*\*\*t1"
    assert len(ours) == len(logins) == 2
    assert re.search(rf"POST /api/auth/login 200 \d+\.\dms user={first} ip=127\.0\.0\.1 {call} new_user={first}$", logins[0])
    assert re.search(rf"POST /api/auth/login 200 \d+\.\dms user={first} ip=127\.0\.0\.1 {call}$", logins[1])


def test_facts_noted_outside_a_request_get_their_own_line(app, tmp_path):
    from aiteni import logs

    with app.app_context():
        logs.note(logging.getLogger("aiteni.test"), job="purge", deleted=3)
    assert "INFO [aiteni.test] job=purge deleted=3" in read_logs(tmp_path, "info")


def test_errors_go_to_the_error_file_too(app, client, tmp_path):
    logging.getLogger("aiteni.test").error("something broke")
    logging.getLogger("aiteni.test").warning("only a warning")
    error = read_logs(tmp_path, "error")
    assert "something broke" in error and "only a warning" not in error
    assert "only a warning" in read_logs(tmp_path, "info")


def test_tokens_never_reach_a_log_file(app, client, auth, tmp_path):
    data = auth.login("masked")
    logging.getLogger("aiteni.test").info("got %s and %s", data["token"], data["refreshToken"])
    client.post("/api/auth/verify", headers=auth.bearer(data["token"]))
    logs = read_logs(tmp_path, "info")
    assert data["token"] not in logs and data["refreshToken"] not in logs
    assert data["token"].split(".")[1] not in logs
    assert "got [jwt] and rt_***" in logs


def test_exception_text_from_requests_is_redacted(app, tmp_path):
    secret = app.config["WECHAT_APPSECRET"]
    try:
        requests.get(f"http://127.0.0.1:9/sns/jscode2session?appid=a&secret={secret}&js_code=c", timeout=2)
    except requests.ConnectionError:
        logging.getLogger("aiteni.test").exception("call failed")
    error = read_logs(tmp_path, "error")
    assert "call failed" in error and "Traceback" in error
    assert secret not in error and "secret=***" in error


def test_mask_filter_patterns():
    mask = SecretMaskFilter(["configured-secret-value"]).mask
    assert mask("key configured-secret-value here") == "key *** here"
    assert mask('{"session_key": "abc+/=="}') == '{"session_key": "***"}'
    assert mask("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert mask("url?js_code=081abc&grant_type=x") == "url?js_code=***&grant_type=x"


# What a hostile client or WeChat puts in a value to end the line early and start a forged one:
# raw and percent-encoded line breaks, Unicode's other line breaks, a terminal's ANSI escapes.
BREAKS = ["\n", "\r", "\r\n", "%0a", "%0d", "%0D%0A", "\u2028", "\u2029", "\u0085", "%c2%85", "%e2%80%a8",
          "\x0b", "\x1c", "\x1b[2K\r", "%1b[31m"]
FORGED = "2026-01-01 00:00:00,000 INFO [aiteni.request] GET /forged 200 0.1ms user=1 ip=6.6.6.6"
RECORD_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \[(?P<logger>[\w.]+)\] ")


def assert_one_line_per_record(text, requests):
    """However a reader splits lines, each starts a record or is an indented traceback line; none is forged."""
    lines = text.splitlines()  # also splits at \x0b, \x1c, \x85, \u2028, \u2029
    starts = [RECORD_START.match(line) for line in lines]
    stray = [line for start, line in zip(starts, lines) if not (start or line.startswith("  "))]
    assert stray == [] and not [line for line in lines if line.startswith(FORGED[:24])]
    assert sum(start is not None and start["logger"] == "aiteni.request" for start in starts) == requests
    assert "\x1b" not in text


def test_one_request_is_one_line_whatever_the_client_sends(client, auth, tmp_path):
    headers = auth.headers("hostile")
    sent = 1
    for cut in BREAKS:
        path = f"/api/nothing{cut}{FORGED.replace(' ', '%20')}"
        client.get(path, headers=headers)
        client.get(f"/api/version?q={cut}{FORGED}".replace(" ", "%20"))
        user_agent = f"ua{cut}{FORGED}".encode("utf-8").decode("latin-1")
        client.get("/api/version", headers={"User-Agent": user_agent.replace("\n", "%0a").replace("\r", "%0d")})
        nickname = f"n{cut}{FORGED}"[:64]
        client.post("/api/auth/login", json={"code": "nick", "nickName": nickname, "avatarUrl": "https://a.cn/a.png"})
        sent += 4
    assert_one_line_per_record(read_logs(tmp_path, "info"), sent)


def test_wechat_cannot_write_lines_into_the_log(client, fake_wechat, tmp_path):
    body = {"code": "c1", "nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}
    for cut in BREAKS:
        fake_wechat.reply({"openid": f"o{cut}x", "session_key": "k", "errmsg": f"ok, rid: r{cut}{FORGED}"})
        client.post("/api/auth/login", json=body)
        fake_wechat.reply({"errcode": f"1{cut}{FORGED}", "errmsg": f"busy{cut}{FORGED}"})
        client.post("/api/auth/login", json=body)
    assert_one_line_per_record(read_logs(tmp_path, "info"), 2 * len(BREAKS))


def test_facts_and_tracebacks_cannot_start_a_line_of_their_own(app, tmp_path):
    from aiteni import logs

    log = logging.getLogger("aiteni.test")
    with app.app_context():
        for cut in BREAKS:
            logs.note(log, nickname=f"n{cut}{FORGED}")
            try:
                raise ValueError(f"bad{cut}{FORGED}")
            except ValueError:
                log.exception("failed on %s", f"p{cut}{FORGED}")
    info = read_logs(tmp_path, "info")
    assert_one_line_per_record(info, 0)
    assert "nickname=n\\n2026-01-01" in info and "nickname=n\\u2028" in info and "nickname=n\\x1b[2K\\r" in info
    assert f"\n  ValueError: bad\n  {FORGED}\n" in info  # a traceback keeps its lines, indented
