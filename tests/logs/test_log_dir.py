"""Several processes, one LOG_DIR: the first writes the daily files, each other one files of its own
(appends from several processes to one file are not atomic on Windows, and lines were lost)."""
import time

import requests

from tests.helpers.wsgi_process import clean_env, wsgi_server


def test_each_process_writes_its_own_files_and_the_first_keeps_the_plain_names(tmp_path, database_url):
    logs = tmp_path / "logs"
    env = clean_env(DATABASE_URL=database_url, LOG_DIR=logs, PORT=0)
    day = time.strftime("%Y-%m-%d")
    with wsgi_server(env) as first, wsgi_server(env) as second:
        for n in range(50):
            requests.get(f"{first.base_url}/api/version?first={n}", timeout=5)
            requests.get(f"{second.base_url}/api/version?second={n}", timeout=5)
        own = logs / f"info-{day}.log"
        seconds = logs / f"info-{day}.{second.pid}.log"
        assert own.exists() and seconds.exists()
        assert own.read_text(encoding="utf-8").count("GET /api/version 200") == 50
        assert seconds.read_text(encoding="utf-8").count("GET /api/version 200") == 50
    assert sorted(path.name for path in logs.glob("info-*.log")) == sorted([own.name, seconds.name])


def test_the_plain_names_pass_to_the_next_process_once_the_first_has_stopped(tmp_path, database_url):
    logs = tmp_path / "logs"
    env = clean_env(DATABASE_URL=database_url, LOG_DIR=logs, PORT=0)
    day = time.strftime("%Y-%m-%d")
    for n in range(2):
        with wsgi_server(env) as server:
            requests.get(f"{server.base_url}/api/version", timeout=5)
    assert [path.name for path in logs.glob("info-*.log")] == [f"info-{day}.log"]
    assert (logs / f"info-{day}.log").read_text(encoding="utf-8").count("GET /api/version 200") == 2
