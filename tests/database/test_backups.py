"""The backup recipes of docs/deployment.md, run as written: the copy holds the data and only its owner
can read it (they hold session keys and WeChat's access token)."""
import datetime
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from tests.helpers.wsgi_process import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the sh recipes")


def recipe(marker):
    """The first line of the ```sh block after `<!-- marker -->` in docs/deployment.md."""
    lines = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- {marker} -->")
    assert lines[start + 1] == "```sh"
    return lines[start + 2]


def run_sh(line, cwd):
    """`line` under sh, from an account whose umask is the usual 022 (files world-readable by default)."""
    return subprocess.run(["sh", "-c", f"umask 022 && {line}"], cwd=cwd, capture_output=True, encoding="utf-8", timeout=60)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_backup_recipe_makes_an_owner_only_copy(tmp_path):
    (tmp_path / "instance" / "backups").mkdir(parents=True)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, tmp_path / ".venv" / "bin" / "python")
    with sqlite3.connect(tmp_path / "instance" / "aiteni.db") as database:
        database.execute("CREATE TABLE aiteni_user (id INTEGER PRIMARY KEY, session_key TEXT)")
        database.execute("INSERT INTO aiteni_user VALUES (1, 'SKsecret==')")
    database.close()
    done = run_sh(recipe("backup-sqlite"), tmp_path)
    assert done.returncode == 0, done.stderr
    backup = tmp_path / "instance" / "backups" / f"aiteni-{datetime.date.today()}.db"
    assert mode(backup) == 0o600
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT session_key FROM aiteni_user").fetchall() == [("SKsecret==",)]
    copy.close()


@pytest.mark.services
def test_the_mysqldump_recipe_makes_an_owner_only_dump(tmp_path):
    from tests.helpers.mariadb import throwaway_database

    (tmp_path / "instance" / "backups").mkdir(parents=True)
    with throwaway_database() as url:
        cnf = tmp_path / "instance" / "backup.cnf"
        cnf.write_text(f"[client]\nuser={url.username}\npassword={url.password or ''}\nhost={url.host}\n"
                       f"port={url.port or 3306}\n", encoding="utf-8")
        line = recipe("backup-mysql")
        assert line.endswith(" aiteni")
        done = run_sh(line.removesuffix(" aiteni") + f" {url.database}", tmp_path)
    assert done.returncode == 0, done.stderr
    [dump] = (tmp_path / "instance" / "backups").glob("aiteni-*.sql")
    assert mode(dump) == 0o600
    assert "CREATE TABLE `aiteni_user`" in dump.read_text(encoding="utf-8")


def test_the_windows_daily_script_reports_a_failed_job_and_logs_each_run():
    """PowerShell does not run here: the script's shape, which decides what Task Scheduler reports."""
    lines = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- daily-ps1 -->") + 2
    script = lines[start:lines.index("```", start)]
    jobs = [line for line in script if line.startswith(("Step ", ".venv", "forfiles", "Get-ChildItem", "mysqldump"))]
    assert jobs and all(line.startswith("Step ") for line in jobs)  # every job through Step: logged, judged
    assert any("sessions purge" in job for job in jobs) and any("backup(d)" in job for job in jobs)
    assert not any("forfiles" in line for line in script)  # exit 1 on a day with nothing to delete
    assert any("Out-File -Append" in line and "$log" in line for line in script)
    assert script[-2].startswith("if ($failed)") and script[-2].rstrip().endswith("exit 1 }")
    assert script[-1] == "exit 0"
