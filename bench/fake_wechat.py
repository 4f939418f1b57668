"""A loopback stand-in for WeChat's jscode2session: code `X` logs in as openid `o_X`.

A bare WSGI function on waitress, so it costs the load generator's CPU
(where it is pinned) as little as possible. Prints its port, then serves.
"""
import json
from urllib.parse import parse_qs

import waitress


def jscode2session(environ, start_response):
    code = parse_qs(environ.get("QUERY_STRING", "")).get("js_code", [""])[0]
    if environ.get("PATH_INFO") != "/sns/jscode2session" or not code:
        body = json.dumps({"errcode": 40029, "errmsg": "invalid code"}).encode()
    else:
        body = json.dumps({"openid": f"o_{code}", "session_key": "c2Vzc2lvbmtleQ=="}).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def main():
    server = waitress.create_server(jscode2session, host="127.0.0.1", port=0, threads=4, ident="wechat-fake")
    print(server.effective_port, flush=True)
    server.run()


if __name__ == "__main__":
    main()
