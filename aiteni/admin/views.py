"""The console's pages: each reads its figures from a module of this package and renders a template."""
import io
import tempfile

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for

from .. import export
from ..evaluation import check, current_bank, simulate
from ..extensions import db
from ..inputs import positive_int
from ..models import CHINA_TIME, MAX_ID, utcnow
from . import audit, auth, bp, charts, overview, players, records


def _before():
    return positive_int(request.args.get("before"), MAX_ID)


def _local(path):
    """`next` after sign-in: a path inside the console only (a path starting /admin/ names no other site)."""
    return path if isinstance(path, str) and path.startswith("/admin/") else None


@bp.app_template_filter("china")
def china_time(moment):
    return (moment + CHINA_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            auth.sign_in(request.form.get("name", "")[:64], request.form.get("password", "")[:1024])
        except auth.SignInRefused as refused:
            error = str(refused)
        else:
            return redirect(_local(request.args.get("next")) or url_for("admin.index"))
    return render_template("admin/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    auth.sign_out(g.account)
    return redirect(url_for("admin.login"))


@bp.get("/")
def index():
    figures = overview.figures()
    return render_template(
        "admin/overview.html", f=figures,
        players_chart=charts.bars(figures["new_players"], "每日新用户", every=5),
        evaluations_chart=charts.bars(figures["evaluations"], "每日评测", every=5),
        levels_chart=charts.bars(figures["levels"], "用户最新水平分布", every=2),
    )


@bp.get("/players")
def player_list():
    found, more = players.search(request.args.get("q", ""), _before())
    return render_template("admin/players.html", players=found, more=more, q=request.args.get("q", ""))


def _player(user_id):
    user = players.find(user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/players/<int:user_id>")
def player(user_id):
    user, bank = _player(user_id), current_bank()
    return render_template(
        "admin/player.html", user=user, sessions=players.login_sessions(user_id), now=utcnow(),
        results=[records.as_seen(record, bank) for record in records.of_player(user_id)],
        total=players.record_count(user_id),
    )


@bp.post("/players/<int:user_id>/revoke")
def revoke(user_id):
    players.revoke_sessions(g.account, _player(user_id).id, auth.address())
    flash(f"用户 {user_id} 的所有登录会话已注销")
    return redirect(url_for("admin.player", user_id=user_id))


@bp.route("/players/<int:user_id>/delete", methods=["GET", "POST"])
def delete(user_id):
    user = _player(user_id)
    if request.method == "POST":
        if request.form.get("confirm", "").strip() == str(user_id):
            players.delete(g.account, user, auth.address())
            flash(f"用户 {user_id} 及其全部数据已删除")
            return redirect(url_for("admin.player_list"))
        flash("确认编号不符，未删除")
    return render_template("admin/delete.html", user=user, total=players.record_count(user_id))


@bp.get("/records")
def record_list():
    filters = records.Filters.read(request.args)
    found, more, floor = records.listing(filters, _before())
    return render_template("admin/records.html", records=found, more=more, floor=floor, filters=filters.args(),
                           stages=records.STAGES, versions=records.versions(current_bank().version))


@bp.get("/records/<int:record_id>")
def record(record_id):
    found = records.find(record_id)
    if found is None:
        abort(404)
    return render_template("admin/record.html", result=records.as_seen(found, current_bank()))


@bp.get("/questions")
def questions():
    bank = current_bank()
    spread = overview.recent_levels()
    stages = [(stage, check.reachable(bank, stage), check.calibration_table(bank, stage)) for stage in check.STAGES]
    return render_template("admin/questions.html", bank=bank, stages=stages, spread=spread,
                           spread_chart=charts.bars(spread, "最近 1 万条评测的水平分布", every=2),
                           simulation=simulate.measured(bank))


@bp.get("/export")
def export_form():
    return render_template("admin/export.html")


@bp.post("/export")
def export_download():
    """The admin export as the command writes it (`records export --since --format`), as a download."""
    fmt = "jsonl" if request.form.get("format") == "jsonl" else "csv"
    since = records.day(request.form.get("since"))
    job = export.Export(since)
    # Kept in memory up to 16 MB, then on disk: a big export never sits whole in memory.
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    # utf-8-sig: the BOM Excel needs to read Chinese, as the command writes it.
    text = io.TextIOWrapper(out, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    (job.write_csv if fmt == "csv" else job.write_jsonl)(text, lambda _count: None)
    text.detach()
    out.seek(0)
    detail = f"format={fmt} records={job.total}" + (f" since={since:%Y-%m-%d}" if since else "")
    audit.record(g.account.name, "export", detail=detail, address=auth.address())
    db.session.commit()
    return send_file(out, mimetype="text/csv" if fmt == "csv" else "application/x-ndjson", as_attachment=True,
                     download_name=f"aiteni-records-{utcnow():%Y%m%d-%H%M%S}.{fmt}")


@bp.get("/audit")
def audit_log():
    entries, more = audit.page(_before())
    return render_template("admin/audit.html", entries=entries, more=more, actions=audit.ACTIONS)
