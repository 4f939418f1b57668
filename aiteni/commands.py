"""Admin commands: `flask --app wsgi records export`, `sessions purge`, `questions check` and `questions simulate`."""
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from . import export
from .auth import sessions
from .evaluation import bank as bank_file
from .evaluation import check, lint, simulate

records_cli = AppGroup("records", help="Evaluation records.")
sessions_cli = AppGroup("sessions", help="Login sessions.")
questions_cli = AppGroup("questions", help="The question bank.")

# Random answer sets the monotonicity search tries (the server tries fewer at start).
CHECK_SAMPLES = 3000


def _date(_ctx, _param, value):
    """--since as midnight UTC; a ClickException (not BadParameter) keeps the error to one line."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise click.ClickException(f"--since {value!r} is not a date like 2025-12-31") from None


@records_cli.command("export")
@click.option("--out", "out_path", required=True, help="File to write.")
@click.option("--since", callback=_date, help="Only records created on or after this UTC date (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
def export_records(out_path, since, fmt):
    """Write every evaluation record with its user's id, username and nickname."""
    # Counted before the file is opened: with the database down, an earlier export at --out survives.
    job = export.Export(since)
    try:
        # utf-8-sig writes the BOM Excel needs to read Chinese correctly
        out = open(out_path, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    except OSError as error:
        raise click.ClickException(f"cannot write {out_path}: {error.strerror}") from None
    write = job.write_csv if fmt == "csv" else job.write_jsonl
    # The bar is for a person watching: redirected or piped output stays clean.
    bar = click.progressbar(length=job.total, label="exporting", file=sys.stderr, hidden=not sys.stderr.isatty())
    with out, bar:
        write(out, bar.update)
    click.echo(f"exported {job.total} records to {out_path}")


@sessions_cli.command("purge")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=0),
              help="Keep sessions that ended fewer than this many days ago.")
def purge_sessions(days):
    """Delete login sessions that expired or were revoked more than DAYS ago."""
    click.echo(f"purged {sessions.purge(days)} sessions")


def _bank_path(path):
    """PATH, else the server's bank: QUESTIONS_FILE or the shipped one."""
    return path or current_app.config["QUESTIONS_FILE"] or str(bank_file.DEFAULT_FILE)


@questions_cli.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def check_questions(path):
    """Validate a question bank (without PATH, the server's: QUESTIONS_FILE or the shipped one)."""
    path = _bank_path(path)
    bank, flaws = bank_file.read(path)
    click.echo(f"bank {path}")
    if bank is not None:
        counts = ", ".join(f"{len(bank.tier(tier))} {tier}" for tier in ("basic", "advanced"))
        click.echo(f"version {bank.version}: {counts} questions, {len(bank.options)} options")
        for stage in check.STAGES:
            low, high = check.reachable(bank, stage)
            click.echo(f"\n{stage}: reaches {low:.1f}–{high:.1f}")
            click.echo("  L     total  rounded")
            for level, total, rounded, required in check.calibration_table(bank, stage):
                mark = "" if rounded == level else "  (required)" if required else "  (beyond the bank's reach)"
                click.echo(f"  {level:.1f}  {total:6.2f}  {rounded:.1f}{mark}")
        flaws = check.problems(bank, CHECK_SAMPLES, probes=True) + lint.lint(bank)
    _verdict(flaws, "flaw", "no flaw found")


def _verdict(problems, label, all_good):
    """Each problem on stderr as `label: problem`, then exit 1; `all_good` when there is none."""
    for problem in problems:
        click.echo(f"{label}: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"\n{all_good}")


def _bank(path):
    """The bank at PATH, else the server's; a ClickException naming its first flaw when it cannot be loaded."""
    path = _bank_path(path)
    bank, flaws = bank_file.read(path)
    if bank is None:
        raise click.ClickException(f"{path}: {flaws[0]} (flask --app wsgi questions check {path})")
    return path, bank


@questions_cli.command("simulate")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--players", default=1000, show_default=True, type=click.IntRange(min=50),
              help="Simulated players for each level, noise and stage.")
@click.option("--seed", default=0, show_default=True, type=int, help="The random generator's seed.")
def simulate_questions(path, players, seed):
    """Rate simulated honest, random and consistent players; exit 1 when a property of the spec fails."""
    path, bank = _bank(path)
    click.echo(f"bank {path}, version {bank.version}: {players} players a row, seed {seed}")
    rows, flagged = simulate.table(bank, players, seed)
    for stage in check.STAGES:
        click.echo(f"\n{stage}: honest players (level L, answers L + N(0, σ))")
        click.echo("  L    σ     error  exact  ±0.5   range holds L  width  inconsistent")
        for row in (r for r in rows if r.stage == stage):
            click.echo(f"  {row.level:.1f}  {row.sigma:<4}  {row.mean_error:+.2f}  {row.exact:5.0%}  {row.within_half:5.0%}"
                       f"  {row.coverage:13.0%}  {row.mean_width:5.2f}  {row.flagged:12.1%}")
        click.echo(f"  random answers: {flagged[stage]:.0%} inconsistent")
    _verdict(simulate.failures(bank, rows, flagged), "fails", "every property holds")


def register(app):
    from .admin.cli import admin_cli

    app.cli.add_command(admin_cli)
    app.cli.add_command(records_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(questions_cli)
