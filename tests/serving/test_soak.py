"""Sustained load: waitress on SQLite and on MariaDB, 2 000 mixed requests from 16 threads, zero 5xx, exact bookkeeping."""
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers.servers import waitress_process

THREADS = 16
REQUESTS = 2000
USERS = [f"soak-user-{n}" for n in range(12)]  # fewer users than threads: users are shared between threads
PROFILE = {"nickName": "球友", "avatarUrl": "wxfile://tmp_avatar.png"}
ACTIONS = ["save"] * 6 + ["history"] * 4 + ["verify"] * 3 + ["delete"] * 3 + ["refresh"] * 2 + ["login"] * 2


def record(rng):
    level = rng.choice([2.5, 3.0, 3.5, 4.0])
    return {
        "answers": {f"Q{n}": f"Q{n}_A{rng.randint(1, 5)}" for n in range(1, 11)},
        "result": {
            "total_level": level + 0.12, "rounded_level": level, "level_label": "中级",
            "dimension_scores": {"forehand": level, "backhand": level - 0.5},
            "dimension_comments": {"forehand": "正手稳定"}, "summary_text": "整体来看……",
        },
    }


class Driver:
    """One thread's client: its own login sessions, the records it saved; shared per-user tallies."""

    def __init__(self, base, seed, tally, lock, budget):
        self.base, self.rng, self.tally, self.lock = base, random.Random(seed), tally, lock
        self.http = requests.Session()
        self.sessions = {}  # user -> {"token", "refreshToken"}
        self.records = {user: [] for user in USERS}
        self.budget = budget
        self.results = []  # (action, status, seconds)

    def call(self, action, method, path, **kwargs):
        started = time.perf_counter()
        response = self.http.request(method, self.base + path, timeout=15, **kwargs)
        self.results.append((action, response.status_code, time.perf_counter() - started))
        self.budget -= 1
        return response

    def login(self, user):
        response = self.call("login", "POST", "/api/auth/login", json={"code": user, **PROFILE})
        if response.status_code == 200:
            self.sessions[user] = response.json()["data"]

    def bearer(self, user):
        return {"Authorization": "Bearer " + self.sessions[user]["token"]}

    def run(self):
        while self.budget > 0:
            user = self.rng.choice(USERS)
            action = self.rng.choice(ACTIONS)
            if user not in self.sessions or action == "login":
                self.login(user)
            elif action == "save":
                response = self.call(action, "POST", "/api/evaluation/save", json=record(self.rng), headers=self.bearer(user))
                if response.status_code == 200:
                    self.records[user].append(response.json()["data"]["record_id"])
                    with self.lock:
                        self.tally[user] += 1
            elif action == "delete" and self.records[user]:
                record_id = self.records[user].pop(self.rng.randrange(len(self.records[user])))
                response = self.call(action, "DELETE", f"/api/evaluation/delete/{record_id}", headers=self.bearer(user))
                if response.status_code == 200:
                    with self.lock:
                        self.tally[user] -= 1
            elif action == "refresh":
                response = self.call(action, "POST", "/api/auth/refresh", json={"refreshToken": self.sessions[user]["refreshToken"]})
                if response.status_code == 200:
                    self.sessions[user] = response.json()["data"]
            elif action == "verify":
                self.call(action, "POST", "/api/auth/verify", headers=self.bearer(user))
            else:
                page_size = self.rng.choice([1, 10, 50])
                self.call("history", "GET", f"/api/evaluation/history?page_size={page_size}", headers=self.bearer(user))
        return self


@pytest.mark.slow
def test_2000_mixed_requests_from_16_threads(each_database, fake_wechat, tmp_path):
    settings = {
        "SQLALCHEMY_DATABASE_URI": each_database,
        "WECHAT_API_BASE": fake_wechat.base_url,
        "LOG_DIR": str(tmp_path / "logs"),
        # Limits on (their code runs under the load too) but far above what 16 threads from one IP send.
        **{f"RATELIMIT_{name}": "1000000 per minute" for name in ("LOGIN", "REFRESH", "WRITE", "EVALUATION", "DEFAULT")},
        "RATELIMIT_ENABLED": True,
        # The bulkhead has tests of its own (tests/wechat/test_resilience.py); here every thread may log in at once.
        "WECHAT_CONCURRENCY": THREADS,
    }
    tally, lock = Counter(), threading.Lock()
    with waitress_process(settings, threads=THREADS) as base:
        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            drivers = list(pool.map(
                lambda n: Driver(base, n, tally, lock, REQUESTS // THREADS).run(), range(THREADS)
            ))
        elapsed = time.perf_counter() - started
        results = [r for d in drivers for r in d.results]
        statuses = Counter(status for _, status, _ in results)

        assert len(results) == REQUESTS
        assert statuses == {200: REQUESTS}, statuses
        for user in USERS:
            login = requests.post(f"{base}/api/auth/login", json={"code": user, **PROFILE}, timeout=15)
            bearer = {"Authorization": "Bearer " + login.json()["data"]["token"]}
            history = requests.get(f"{base}/api/evaluation/history", headers=bearer, timeout=15)
            assert history.json()["data"]["total"] == tally[user], user

    assert not list((tmp_path / "logs").glob("error-*.log"))  # not one error logged
    latencies = sorted(seconds * 1000 for _, _, seconds in results)
    per_action = Counter(action for action, _, _ in results)
    print(
        f"\nsoak: {REQUESTS} requests in {elapsed:.1f} s ({REQUESTS / elapsed:.0f} req/s), "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {latencies[int(0.95 * len(latencies))]:.1f} ms, "
        f"p99 {latencies[int(0.99 * len(latencies))]:.1f} ms, max {latencies[-1]:.1f} ms; {dict(per_action)}; "
        f"records kept {sum(tally.values())}"
    )
