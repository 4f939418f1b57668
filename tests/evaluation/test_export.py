"""The admin export: `flask --app wsgi records export --out FILE [--since DATE] [--format csv|jsonl]`."""
import csv
import json
import os
import subprocess
import sys
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from aiteni import export
from aiteni.extensions import db
from aiteni.models import EvaluationRecord, User
from tests.helpers.clients import record_body
from tests.helpers.query_plans import explain, extras, statements_with_order_by

ROOT = Path(__file__).resolve().parents[2]
EMOJI_NICKNAME = "网球🎾小王"


def save(client, headers, **result):
    body = record_body(**{"summary_text": '整体来看，"正手"不错\n反手还需练习', **result})
    response = client.post("/api/evaluation/save", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    record_id = response.get_json()["data"]["record_id"]
    return client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]


def profile(client, headers):
    return client.get("/api/user/info", headers=headers).get_json()["data"]


def run_export(runner, *args):
    return runner.invoke(args=["records", "export", *args])


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def one_line_error(result):
    """The command failed with exactly one line of explanation, and no traceback."""
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def two_users(client, auth):
    """Alice (emoji nickname) with a Chinese-labelled record, Bob with a record on another dimension."""
    alice, bob = auth.headers("alice", nickname=EMOJI_NICKNAME), auth.headers("bob", nickname="Bob")
    records = [
        (profile(client, alice), save(client, alice)),
        (profile(client, bob), save(client, bob, level_label="入门", dimension_scores={"serve": 2.5},
                                    dimension_comments={}, summary_text="")),
    ]
    return records


def test_csv_has_a_bom_chinese_and_emoji_and_a_column_per_dimension(runner, tmp_path, two_users):
    out = tmp_path / "records.csv"
    result = run_export(runner, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"exported 2 records to {out}\n"

    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(out)
    assert list(rows[0]) == export.BASE_COLUMNS + ["dim_baseline", "dim_forehand", "dim_serve"] + export.JSON_COLUMNS
    assert len(rows) == 2
    for row, (user, record) in zip(rows, two_users):
        assert row["record_id"] == str(record["id"])
        assert row["user_id"] == str(user["id"])
        assert row["username"] == user["username"]
        assert row["nickname"] == user["nickName"]
        assert row["level_label"] == record["level_label"]
        assert row["summary_text"] == record["summary_text"]
        assert float(row["total_level"]) == record["total_level"]
        assert float(row["rounded_level"]) == record["rounded_level"]
        assert row["created_at"] == record["created_at"]
        assert json.loads(row["dimension_comments"]) == record["dimension_comments"]
        assert json.loads(row["answers"]) == record["answers"]
    alice, bob = rows
    assert alice["nickname"] == EMOJI_NICKNAME and alice["level_label"] == "发展中业余选手"
    assert (alice["dim_baseline"], alice["dim_forehand"], alice["dim_serve"]) == ("3.0", "3.8", "")
    assert (bob["dim_baseline"], bob["dim_forehand"], bob["dim_serve"]) == ("", "", "2.5")


def test_jsonl_has_one_full_record_per_line(runner, tmp_path, two_users):
    out = tmp_path / "records.jsonl"
    result = run_export(runner, "--out", str(out), "--format", "jsonl")
    assert result.exit_code == 0, result.output

    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    lines = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    assert lines == [
        {
            "record_id": record["id"],
            "user_id": user["id"],
            "username": user["username"],
            "nickname": user["nickName"],
            # saved_to_cloud is not stored: every record is; the range is two columns.
            **{key: record[key] for key in record if key not in ("id", "saved_to_cloud", "level_range")},
            "level_low": (record["level_range"] or [None, None])[0],
            "level_high": (record["level_range"] or [None, None])[1],
        }
        for user, record in two_users
    ]
    assert lines[0]["nickname"] == EMOJI_NICKNAME


def test_stage_version_lists_and_certainty_are_exported(app, runner, tmp_path, client, auth):
    """A record saved through /save, one scored by /basic, and one from before these columns existed."""
    headers = auth.headers()
    saved = save(client, headers, advantages=["forehand"], weaknesses=["baseline", "serve"])
    questions = client.get("/api/evaluation/questions").get_json()["data"]
    lopsided = {q["id"]: q["options"][0 if q["dimension"] != "forehand" else -1]["id"]
                for q in questions["basic_questions"]}
    scored = client.post("/api/evaluation/basic", json={"answers": lopsided}, headers=headers).get_json()["data"]
    assert scored["saved_to_cloud"] and (scored["advantages"] or scored["weaknesses"]), scored
    insert_records(app, 1)  # advantages and weaknesses NULL, stage from the column's default
    with app.app_context():
        inserted = db.session.scalar(sa.select(sa.func.max(EvaluationRecord.id)))
    expected = [
        (saved["id"], "saved", None, ["forehand"], ["baseline", "serve"]),
        (scored["record_id"], "basic", questions["version"], scored["advantages"], scored["weaknesses"]),
        (inserted, "saved", None, None, None),
    ]

    out = tmp_path / "records.csv"
    assert run_export(runner, "--out", str(out)).exit_code == 0
    rows = [
        # An empty cell is how CSV writes a null questions_version.
        (int(row["record_id"]), row["stage"], row["questions_version"] or None,
         json.loads(row["advantages"]), json.loads(row["weaknesses"]))
        for row in read_csv(out)
    ]
    assert rows == expected

    out = tmp_path / "records.jsonl"
    assert run_export(runner, "--out", str(out), "--format", "jsonl").exit_code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    fields = ("record_id", "stage", "questions_version", "advantages", "weaknesses")
    assert [tuple(line[key] for key in fields) for line in lines] == expected
    record = client.get(f"/api/evaluation/result/{scored['record_id']}", headers=headers).get_json()["data"]
    assert {key: record[key] for key in record if key not in ("id", "saved_to_cloud", "level_range")} == {
        key: lines[1][key] for key in record if key not in ("id", "saved_to_cloud", "level_range")}
    certainty = ("level_low", "level_high", "confidence", "provisional", "consistent")
    assert [lines[1][key] for key in certainty] == [*record["level_range"], record["confidence"], record["provisional"],
                                                    record["consistent"]]
    assert all(line[key] is None for line in (lines[0], lines[2]) for key in certainty)


def test_csv_cells_that_excel_would_run_as_formulas_are_defused(runner, tmp_path, client, auth):
    headers = auth.headers("mallory", nickname='=HYPERLINK("http://evil.example","点我")')
    save(client, headers, summary_text="-2+3")
    out = tmp_path / "records.csv"
    assert run_export(runner, "--out", str(out)).exit_code == 0
    [row] = read_csv(out)
    assert row["nickname"] == '\'=HYPERLINK("http://evil.example","点我")'
    assert row["summary_text"] == "'-2+3"
    assert row["total_level"] == "3.62"


def test_since_keeps_records_from_that_utc_day_on(app, runner, tmp_path, client, auth):
    headers = auth.headers()
    ids = [save(client, headers)["id"] for _ in range(3)]
    moments = [datetime(2025, 1, 31, 23, 59, 59, 999999), datetime(2025, 2, 1), datetime(2025, 3, 1, 8)]
    with app.app_context():
        for record_id, moment in zip(ids, moments):
            db.session.execute(
                sa.update(EvaluationRecord).where(EvaluationRecord.id == record_id).values(created_at=moment)
            )
        db.session.commit()

    out = tmp_path / "since.csv"
    result = run_export(runner, "--out", str(out), "--since", "2025-02-01")
    assert result.exit_code == 0, result.output
    assert "exported 2 records" in result.stdout
    rows = read_csv(out)
    assert [int(row["record_id"]) for row in rows] == ids[1:]
    assert [row["created_at"] for row in rows] == ["2025-02-01T00:00:00Z", "2025-03-01T08:00:00Z"]

    out = tmp_path / "since.jsonl"
    assert run_export(runner, "--out", str(out), "--since", "2025-03-02", "--format", "jsonl").exit_code == 0
    assert out.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("since", ["2025-13-01", "2025-02-30", "yesterday", "2025/01/01", ""])
def test_bad_since_date_is_a_one_line_error(runner, tmp_path, since):
    out = tmp_path / "records.csv"
    line = one_line_error(run_export(runner, "--out", str(out), "--since", since))
    assert repr(since) in line and "2025-12-31" in line
    assert not out.exists()


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_unwritable_path_is_a_one_line_error(runner, tmp_path, two_users, where):
    out = tmp_path / "no" / "such" / "dir" / "records.csv" if where == "missing directory" else tmp_path
    line = one_line_error(run_export(runner, "--out", str(out)))
    # The reason is the operating system's own words ("No such file or directory", "Is a directory", ...).
    prefix = f"Error: cannot write {out}: "
    assert line.startswith(prefix) and len(line) > len(prefix)


def test_no_progress_bar_when_not_on_a_terminal(runner, tmp_path, two_users):
    result = run_export(runner, "--out", str(tmp_path / "records.csv"))
    assert result.exit_code == 0
    assert result.stderr == ""


def test_progress_bar_on_a_terminal(database_url, tmp_path, two_users):
    """A real `flask` process whose stderr is a pseudo-terminal draws the bar there."""
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX only")
    out = tmp_path / "records.csv"
    env = {
        **os.environ, "AITENI_ENV": "development", "DATABASE_URL": database_url,
        "LOG_DIR": str(tmp_path / "logs"), "COLUMNS": "80",
    }
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "records", "export", "--out", str(out)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=terminal, timeout=60,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert process.returncode == 0, drawn
    assert process.stdout.decode() == f"exported 2 records to {out}\n"
    assert b"exporting" in drawn and b"100%" in drawn
    assert len(read_csv(out)) == 2


def insert_records(app, count):
    """`count` records for one fresh user, straight into the table."""
    with app.app_context():
        user_id = db.session.execute(
            sa.insert(User).values(username=f"bulk{count}", wechat_openid=f"bulk{count}", wechat_nickname="批量")
        ).inserted_primary_key[0]
        row = {
            "user_id": user_id, "total_level": 4.0, "rounded_level": 4.0, "level_label": "进阶选手",
            "dimension_scores": {"serve": 4.0, "volley": 3.5}, "dimension_comments": {"serve": "发球稳定" * 20},
            "summary_text": "总结" * 200, "answers": {f"Q{i}": f"Q{i}_A2" for i in range(30)},
            "created_at": datetime(2025, 6, 1),
        }
        db.session.execute(sa.insert(EvaluationRecord), [row] * count)
        db.session.commit()


def peak_memory_of_export(runner, out):
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    result = run_export(runner, "--out", str(out), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return tracemalloc.get_traced_memory()[1] - before


def test_export_streams_in_batches_with_flat_memory(app, runner, tmp_path, monkeypatch):
    """Ten times the rows must not need ten times the memory: rows are read a batch at a time."""
    monkeypatch.setattr(export, "BATCH", 100)
    insert_records(app, 300)
    tracemalloc.start()
    try:
        run_export(runner, "--out", str(tmp_path / "warm-up.jsonl"))  # compile caches, imports
        small = peak_memory_of_export(runner, tmp_path / "small.jsonl")
        insert_records(app, 2700)
        large = peak_memory_of_export(runner, tmp_path / "large.jsonl")
    finally:
        tracemalloc.stop()

    lines = (tmp_path / "large.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["record_id"] for line in lines]
    assert len(ids) == 3000 and ids == sorted(set(ids))
    assert large < small * 2, (small, large)


def test_export_batches_read_by_primary_key_without_sorting(app, runner, tmp_path, two_users, monkeypatch):
    """Each batch must walk the records' primary key: a plan that sorts the table per batch never finishes at scale."""
    monkeypatch.setattr(export, "BATCH", 10)
    insert_records(app, 40)
    with app.app_context():
        engine = db.engine
    with statements_with_order_by(engine) as statements:
        for fmt in ("csv", "jsonl"):
            out = tmp_path / f"records.{fmt}"
            result = run_export(runner, "--out", str(out), "--format", fmt, "--since", "2000-01-01")
            assert result.exit_code == 0, result.output
    assert len(statements) >= 3 * (42 // 10 + 1)  # the dimension pass and both writes, batch by batch

    for statement, parameters in statements:
        plan = explain(engine, statement, parameters)
        if engine.dialect.name == "sqlite":
            assert "SEARCH aiteni_evaluation_record USING INTEGER PRIMARY KEY" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        elif "Impossible WHERE" not in extras(plan):  # else the last, empty batch: no row can match its key range
            assert plan[0]["table"] == "aiteni_evaluation_record" and plan[0]["key"] == "PRIMARY", plan
            assert "filesort" not in extras(plan) and "temporary" not in extras(plan), plan
