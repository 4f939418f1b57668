"""The app's users as tests play them: a player signing in through the real endpoint (AuthActions), the body
the mini-program saves (record_body), an operator on the console (Console), several clients at once (at_once)."""
import re
import threading


def at_once(calls):
    """Runs the callables in threads released together; their results, in order."""
    gate, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n):
        gate.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class AuthActions:
    """Logs users in through the real endpoint and builds their headers."""

    def __init__(self, client):
        self.client = client

    def login(self, code="alice", nickname="张三", avatar_url="https://mmbiz.qpic.cn/a.png"):
        response = self.client.post(
            "/api/auth/login", json={"code": code, "nickName": nickname, "avatarUrl": avatar_url}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def headers(self, code="alice", **kwargs):
        return self.bearer(self.login(code, **kwargs)["token"])

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}


def record_body(**result):
    """A save body as the mini-program sends it; keyword arguments replace result fields."""
    return {
        "answers": {"Q1": "Q1_A3", "Q2": "Q2_A1"},
        "result": {
            "total_level": 3.62,
            "rounded_level": 3.5,
            "level_label": "发展中业余选手",
            "dimension_scores": {"baseline": 3.0, "forehand": 3.8},
            "dimension_comments": {"forehand": "正手已经是你的核心武器"},
            "summary_text": "整体来看……",
            **result,
        },
    }


CONSOLE_PASSWORD = "correct horse battery staple"


class Console:
    """The operators' console through a test client: accounts made by the real command, forms posted with
    the CSRF token their page carries."""

    CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

    def __init__(self, app, address="127.0.0.1"):
        self.app = app
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address

    def create_account(self, name="ops", password=CONSOLE_PASSWORD):
        result = self.app.test_cli_runner().invoke(args=["admin", "create", name, "--password-stdin"],
                                                   input=password + "\n")
        assert result.exit_code == 0, result.output
        return result

    def csrf(self, path="/admin/login"):
        page = self.client.get(path)
        return self.CSRF.search(page.get_data(as_text=True)).group(1)

    def sign_in(self, name="ops", password=CONSOLE_PASSWORD):
        return self.client.post("/admin/login", data={"name": name, "password": password, "csrf_token": self.csrf()})

    def post(self, path, data=None, page="/admin/"):
        """A form posted as the browser would: with the token of a page of the console."""
        return self.client.post(path, data={"csrf_token": self.csrf(page), **(data or {})})
