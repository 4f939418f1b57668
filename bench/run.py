"""Benchmark of the hot endpoints against a fresh database, driven by wrk.

    python -m bench [--quick] [--scale] [--mysql URL] [--json FILE]

Builds a fresh database with the migrations, seeds it, serves the app with
waitress on 127.0.0.1 (pinned to one CPU; wrk and the fake WeChat to the
others), and runs the targets interleaved in rounds so drift hits all alike.
Rate limits are switched off through the RATELIMIT_ENABLED setting, and a
checked session stays cached for the whole run (SESSION_CACHE_SECONDS).

Targets (bench/lua/<target>.lua):
  bare       POST /bench/bare: a view answering verify-sized JSON, the ceiling (bench/server.py)
  verify     POST /api/auth/verify with a seeded user's token
  login      POST /api/auth/login through the fake WeChat: half first logins, half again
  history    GET /api/evaluation/history, the first page of 10 records
  save       POST /api/evaluation/save, a computed record
  basic      POST /api/evaluation/basic, signed in: random basic answers, scored, saved as a record
  full       POST /api/evaluation/full, signed in: random basic and advanced answers, in pairs of one
             user with the same basic answers, so half add a record and half complete it
  full_anon  POST /api/evaluation/full without a token: random answers, scored, not saved
  questions  GET /api/evaluation/questions: half a full 200, half a 304 (If-None-Match: the ETag)
The answers are drawn per request from the question bank the server reads (QUESTIONS_FILE or the
shipped one), whose ids are generated into the scripts at bench start. Every answer must be 2xx,
and the questions target's 304s; any other status fails the run.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from . import processes
from .processes import ROOT, Served
from .seed import BANK, bank_path, seed

TARGETS = ("bare", "verify", "login", "history", "save", "basic", "full", "full_anon", "questions")
SCALE_TARGETS = ("history", "login", "full")
# The targets that send a seeded user's token: those whose script includes tokens.lua.
SIGNED_IN = {target for target, helpers in processes.HELPERS.items() if "tokens.lua" in helpers}
# Statuses other than 2xx a target must get, each in every run (a 304 proves the ETag matched).
EXPECTED_OTHER = {"questions": ("304",)}
RECORDS_PER_USER = 10
# The targets of issues 6 and 13 on SQLite: (name, numerator, denominator, minimum ratio).
RATIO_TARGETS = (
    ("verify ≥ 0.5× bare", "verify", "bare", 0.5),
    ("history ≥ 0.5× verify", "history", "verify", 0.5),
    ("login ≥ 0.3× verify", "login", "verify", 0.3),
    ("save ≥ 0.3× verify", "save", "verify", 0.3),
    ("full (signed in) ≥ 0.3× verify", "full", "verify", 0.3),
    ("full (anonymous) ≥ 0.5× verify", "full_anon", "verify", 0.5),
    ("questions ≥ 0.8× verify", "questions", "verify", 0.8),
)
MAX_RSS_MB = 80
MAX_SCALE_RATIO = 1.3
# The console's pages timed in the scale run (issue 23): the overview and a search by nickname.
CONSOLE_PAGES = {"console overview": "/admin/", "console search": "/admin/players?q=用户54321"}
MAX_CONSOLE_SECONDS = 1.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode for CI: 1 round of 1 s, small seed, no targets checked")
    parser.add_argument("--scale", action="store_true", help="history, login and full at 1,000,000 records / 100,000 users "
                        "vs 10,000 / 1,000, and the console's overview and a player search (each under 1 s)")
    parser.add_argument("--mysql", metavar="URL", help="MariaDB/MySQL URL; the database it names is DROPPED and recreated")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all targets (default 5; the median is reported)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per target per round (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8, one per waitress thread)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (default 8)")
    parser.add_argument("--users", type=int, default=1000, help="seeded users, 10 records each (default 1000)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target of issue 6 or 13 is missed")
    parser.add_argument("--targets", help=f"comma-separated subset of {','.join(TARGETS)}")
    parser.add_argument("--profile", metavar="DIR", help="record each run with py-spy into DIR (collapsed stacks); "
                        "the figures of profiled runs are not comparable")
    args = parser.parse_args(argv)
    args.targets = tuple(args.targets.split(",")) if args.targets else TARGETS
    if not set(args.targets) <= set(TARGETS) or "bare" not in args.targets and "verify" not in args.targets:
        parser.error(f"--targets: a subset of {','.join(TARGETS)} with bare or verify in it")
    if args.quick:
        args.rounds, args.duration, args.users = 1, 1, min(args.users, 100)
    return args


def fresh_database(args, workdir, name):
    """A URL of an empty database: a new SQLite file, or the --mysql database dropped and recreated."""
    if not args.mysql:
        return f"sqlite:///{Path(workdir) / f'{name}.db'}"
    url = sa.engine.make_url(args.mysql)
    if name != "main":
        url = url.set(database=f"{url.database}_{name}")
    # URL.set ignores None; namedtuple's _replace is how SQLAlchemy documents clearing a part.
    engine = sa.create_engine(url._replace(database=None))
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{url.database}`")
        connection.exec_driver_sql(
            f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    engine.dispose()
    return url.render_as_string(hide_password=False)


def server_env(database_url, wechat_url, workdir, jwt_secret):
    """Production settings, a loopback WeChat, rate limits off, logs in the work directory."""
    return {
        **os.environ,
        "AITENI_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "JWT_SECRET": jwt_secret,
        "WECHAT_APPID": "wxbench0000000000",
        "WECHAT_APPSECRET": secrets.token_hex(16),
        "WECHAT_API_BASE": wechat_url,
        "WECHAT_DEV_LOGIN": "0",
        "RATELIMIT_ENABLED": "0",
        # Every signed-in target finds its users' sessions checked and cached (tokens.PrincipalCache),
        # whatever its speed. With the production 1 s, a target cycling its 1,000 tokens faster than
        # 1,000 req/s found them cached and a slower one never did: history/verify swung from 0.45 to
        # 0.70 with the machine's speed that minute. An hour holds them all, as on the machine where
        # the targets were set (there every signed-in target ran faster than the tokens cycled).
        "SESSION_CACHE_SECONDS": "3600",
        "LOG_DIR": str(Path(workdir) / "logs"),
        "LOG_LEVEL": "INFO",
        # As the documented systemd unit runs it (docs/deployment.md): two glibc memory pools, not one a thread.
        "MALLOC_ARENA_MAX": "2",
    }


class Site:
    """One database, seeded, with the app serving it."""

    def __init__(self, args, workdir, name, users, wechat_url, server_cpus):
        self.name, self.users = name, users
        jwt_secret = secrets.token_hex(32)
        database_url = fresh_database(args, workdir, name)
        self.env = env = server_env(database_url, wechat_url, workdir, jwt_secret)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        say(f"seeding {name}: {users:,} users, {users * RECORDS_PER_USER:,} records")
        started = time.monotonic()
        tokens = seed(database_url, jwt_secret, users, RECORDS_PER_USER, min(users, 1000), quiet=args.quick)
        self.seed_seconds = time.monotonic() - started
        self.tokens_file = Path(workdir) / f"{name}-tokens.txt"
        self.tokens_file.write_text("\n".join(tokens) + "\n")
        self.server = Served(["bench.server", str(args.threads)], env, Path(workdir) / f"{name}-server.log", server_cpus)
        try:
            requests.get(self.server.url + "/api/health", timeout=10).raise_for_status()
            self.etag = questions_etag(self.server.url)
        except Exception:
            self.server.stop()
            raise

    def wrk_args(self, target, run_id):
        if target == "login":
            return [f"n{run_id}x", str(self.users)]
        if target == "questions":
            return [self.etag]
        return [str(self.tokens_file)] if target in SIGNED_IN else []


class ConsoleSession:
    """An operator signed in to a site's console, as a browser does (the cookie is Secure in production,
    which requests would not send over http: it is carried by hand)."""

    def __init__(self, site):
        self.url = site.server.url
        password = secrets.token_urlsafe(16)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "admin", "create", "bench", "--password-stdin"],
                       cwd=ROOT, env=site.env, input=password + "\n", text=True, encoding="utf-8", check=True, capture_output=True)
        page = requests.get(self.url + "/admin/login", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = requests.post(self.url + "/admin/login", data={"name": "bench", "password": password, "csrf_token": token},
                               headers=self._cookie(page), allow_redirects=False, timeout=10)
        if signed.status_code != 302:
            raise RuntimeError(f"console sign-in failed: {signed.status_code}")
        self.headers = self._cookie(signed)

    @staticmethod
    def _cookie(response):
        return {"Cookie": f"aiteni_console={response.cookies['aiteni_console']}"}

    def seconds(self, path, times=5):
        """The median time of `times` GETs of `path`, each a 200."""
        spent = []
        for _ in range(times):
            started = time.perf_counter()
            response = requests.get(self.url + path, headers=self.headers, allow_redirects=False, timeout=60)
            spent.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"console {path}: {response.status_code}")
        return statistics.median(spent)


def questions_etag(url):
    """The ETag of /api/evaluation/questions, once the served bank is the one the scripts' answers come from."""
    response = requests.get(url + "/api/evaluation/questions", timeout=10)
    response.raise_for_status()
    served = response.json()["data"]["version"]
    if served != BANK.version or not response.headers.get("ETag"):
        raise RuntimeError(f"the server's question bank ({served}) is not {bank_path()} ({BANK.version}), or has no ETag")
    return response.headers["ETag"]


def measure(site, target, script, args, run_id, load_cpus):
    """One wrk run against one target, with the server's CPU and peak RSS around it."""
    server = site.server
    server.reset_peak_rss()
    profiler = processes.profile(server.pid, args.duration, Path(args.profile) / f"{target}-{run_id}.txt", load_cpus) if args.profile else None
    cpu_before = server.cpu_seconds()
    result = processes.run_wrk(script, server.url, args.duration, args.connections, load_cpus, site.wrk_args(target, run_id))
    if profiler:
        profiler.wait()
    cpu = server.cpu_seconds() - cpu_before
    done = max(result["requests"], 1)
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "cpu_us_per_request": cpu * 1e6 / done,
        "peak_rss_mb": server.peak_rss_mb(),
        "requests": result["requests"],
        "non_2xx": unexpected(target, result["statuses"]),
        "socket_errors": result["socket_errors"],
        "statuses": result["statuses"],
    }


def unexpected(target, statuses):
    """Answers other than 2xx and the target's expected statuses, plus one per expected status that never came."""
    expected = EXPECTED_OTHER.get(target, ())
    wrong = sum(n for status, n in statuses.items() if not status.startswith("2") and status not in expected)
    return wrong + sum(1 for status in expected if not statuses.get(status))


def run_rounds(args, plan, workdir, load_cpus):
    """plan: [(key, site, target)]; runs them interleaved, rounds times; returns key -> list of runs."""
    scripts = {target: processes.wrk_script(target, workdir, BANK) for _, _, target in plan}
    runs = {key: [] for key, _, _ in plan}
    if not args.quick:
        say("warm-up")
        for _, site, target in plan:
            processes.run_wrk(scripts[target], site.server.url, 1, args.connections, load_cpus,
                              site.wrk_args(target, f"w{secrets.token_hex(3)}"))
    for round_number in range(1, args.rounds + 1):
        for key, site, target in plan:
            run_id = f"{round_number}{secrets.token_hex(3)}"
            runs[key].append(measure(site, target, scripts[target], args, run_id, load_cpus))
            last = runs[key][-1]
            say(f"round {round_number}/{args.rounds} {key:<16} {last['rps']:8.0f} req/s  p50 {last['p50_ms']:.2f} ms")
    return runs


def summarise(runs):
    """The median of each figure over the rounds, plus totals of errors."""
    figures = ("rps", "p50_ms", "p99_ms", "cpu_us_per_request", "peak_rss_mb")
    summary = {}
    for key, rounds in runs.items():
        summary[key] = {f: statistics.median(r[f] for r in rounds) for f in figures}
        summary[key]["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)
        for f in ("requests", "non_2xx", "socket_errors"):
            summary[key][f] = sum(r[f] for r in rounds)
        summary[key]["statuses"] = {s: sum(r["statuses"].get(s, 0) for r in rounds)
                                    for s in sorted({s for r in rounds for s in r["statuses"]})}
        summary[key]["rounds"] = rounds
    return summary


def full_run(args, workdir, wechat_url, cpus):
    site = Site(args, workdir, "main", args.users, wechat_url, cpus[0])
    try:
        summary = summarise(run_rounds(args, [(t, site, t) for t in args.targets], workdir, cpus[1]))
    finally:
        site.server.stop()
    for figures in summary.values():
        for base in ("bare", "verify"):
            if base in summary:
                figures[f"x_{base}"] = figures["rps"] / summary[base]["rps"]
    checks = [
        {"target": name, "value": summary[a]["rps"] / summary[b]["rps"], "limit": limit,
         "ok": summary[a]["rps"] / summary[b]["rps"] >= limit}
        for name, a, b, limit in RATIO_TARGETS if a in summary and b in summary
    ]
    peak = max(f["peak_rss_mb"] for f in summary.values())
    checks.append({"target": f"server peak RSS ≤ {MAX_RSS_MB} MB", "value": peak, "limit": MAX_RSS_MB, "ok": peak <= MAX_RSS_MB})
    print_table(summary, ("rps", "p50_ms", "p99_ms", "cpu_us_per_request", "peak_rss_mb", "x_bare", "x_verify"))
    return {"targets": summary, "checks": checks}


def scale_run(args, workdir, wechat_url, cpus):
    small_users, large_users = (100, 2_000) if args.quick else (1_000, 100_000)
    small = Site(args, workdir, "small", small_users, wechat_url, cpus[0])
    try:
        large = Site(args, workdir, "large", large_users, wechat_url, cpus[0])
        try:
            consoles = {site.name: ConsoleSession(site) for site in (small, large)}
            plan = [(f"{t}@{s.name}", s, t) for t in SCALE_TARGETS for s in (small, large)]
            summary = summarise(run_rounds(args, plan, workdir, cpus[1]))
            console = {f"{page}@{name}": session.seconds(path)
                       for page, path in CONSOLE_PAGES.items() for name, session in consoles.items()}
        finally:
            large.server.stop()
    finally:
        small.server.stop()
    checks = []
    for target in SCALE_TARGETS:
        a, b = summary[f"{target}@large"], summary[f"{target}@small"]
        ratio = a["p50_ms"] / b["p50_ms"]
        a["x_small_p50"], a["x_small_cpu"] = ratio, a["cpu_us_per_request"] / b["cpu_us_per_request"]
        checks.append({"target": f"{target} p50 at {large_users * RECORDS_PER_USER:,} records ≤ {MAX_SCALE_RATIO}× at "
                                 f"{small_users * RECORDS_PER_USER:,}", "value": ratio, "limit": MAX_SCALE_RATIO,
                       "ok": ratio <= MAX_SCALE_RATIO})
    for page in CONSOLE_PAGES:
        seconds = console[f"{page}@large"]
        checks.append({"target": f"{page} at {large_users * RECORDS_PER_USER:,} records < {MAX_CONSOLE_SECONDS:g} s",
                       "value": seconds, "limit": MAX_CONSOLE_SECONDS, "ok": seconds < MAX_CONSOLE_SECONDS})
    print_table(summary, ("rps", "p50_ms", "p99_ms", "cpu_us_per_request", "peak_rss_mb", "x_small_p50", "x_small_cpu"))
    print("| console page | seconds (median of 5) |\n|---|---|")
    for key, seconds in console.items():
        print(f"| {key} | {seconds:.3f} |")
    say(f"seeding took {small.seed_seconds:.0f} s (small) and {large.seed_seconds:.0f} s (large)")
    return {"targets": summary, "checks": checks, "console_seconds": console,
            "sizes": {"small": {"users": small_users, "records": small_users * RECORDS_PER_USER},
                      "large": {"users": large_users, "records": large_users * RECORDS_PER_USER}}}


HEADINGS = {"rps": "req/s", "p50_ms": "p50 ms", "p99_ms": "p99 ms", "cpu_us_per_request": "CPU µs/req",
            "peak_rss_mb": "peak RSS MB", "x_bare": "× bare", "x_verify": "× verify",
            "x_small_p50": "p50 × small", "x_small_cpu": "CPU × small"}


def print_table(summary, columns):
    print("| target | " + " | ".join(HEADINGS[c] for c in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for key, figures in summary.items():
        cells = [f"{figures[c]:.0f}" if c in ("rps", "cpu_us_per_request") else
                 f"{figures[c]:.2f}" if c in figures else "" for c in columns]
        print(f"| {key} | " + " | ".join(cells) + " |")


def say(text):
    print(text, file=sys.stderr, flush=True)


def main(argv=None):
    args = parse_args(argv)
    if not shutil.which("wrk"):
        say("wrk is not installed: the benchmark drives load with it. Install it with "
            "`apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS).")
        return 2
    cpus = processes.cpu_plan()
    say(f"server on CPU {cpus[0]}, wrk and fake WeChat on CPU {cpus[1]}" if cpus[0] else "one CPU: nothing pinned")
    workdir = tempfile.mkdtemp(prefix="aiteni-bench-")
    wechat = Served(["bench.fake_wechat"], dict(os.environ), Path(workdir) / "wechat.log", cpus[1])
    started = time.time()
    try:
        result = (scale_run if args.scale else full_run)(args, workdir, wechat.url, cpus)
    except BaseException:
        say(f"the servers' logs are kept in {workdir}")
        raise
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        wechat.stop()
    if not args.quick:
        for check in result["checks"]:
            print(f"{'PASS' if check['ok'] else 'FAIL'}  {check['target']}: {check['value']:.2f}")
    failures = {k: (f["non_2xx"], f["socket_errors"]) for k, f in result["targets"].items()
                if f["non_2xx"] or f["socket_errors"] or not f["requests"]}
    result["meta"] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8").stdout.strip(),
        "database": "mysql" if args.mysql else "sqlite",
        "mode": ("quick " if args.quick else "") + ("scale" if args.scale else "full"),
        "rounds": args.rounds, "seconds": args.duration, "connections": args.connections,
        "waitress_threads": args.threads, "cpus": os.cpu_count(), "pinned": bool(cpus[0]),
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if failures:
        statuses = {k: result["targets"][k]["statuses"] for k in failures}
        say(f"FAILED: non-2xx responses (304 expected of questions) or socket errors "
            f"(target: (unexpected, socket errors)): {failures}; statuses: {statuses}")
        return 1
    if args.check and not args.quick and not all(c["ok"] for c in result["checks"]):
        return 1
    return 0
