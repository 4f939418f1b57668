"""The app as the benchmark serves it: `create_app()` plus a bare route, on waitress.

The bare route lives here, never in the app. It returns JSON of the same size
as /api/auth/verify through the same middleware, logging and JSON provider,
so its speed is the ceiling any Flask view can reach on this server.
Prints the port it listens on, then serves until killed.
"""
import sys

import waitress

from aiteni import create_app
from aiteni.envelope import ok

BARE_PATH = "/bench/bare"
# The shape and size of verify's answer for a seeded user.
BARE_DATA = {"userId": 1234, "userInfo": {"nickName": "用户1234", "avatarUrl": "https://mmbiz.qpic.cn/bench/1234.png"}}


def bench_app():
    app = create_app()

    @app.post(BARE_PATH)
    def bare():
        return ok(BARE_DATA, "Token有效")

    return app


def main(threads):
    server = waitress.create_server(bench_app(), host="127.0.0.1", port=0, threads=threads, ident="aiteni")
    print(server.effective_port, flush=True)
    server.run()


if __name__ == "__main__":
    main(int(sys.argv[1]))
