"""The question bank file: what a club editing it is told, and what the server does with it."""
import dataclasses
import json
import os
import subprocess
import sys

import orjson
import pytest

from aiteni import create_app
from aiteni.evaluation import bank as bank_file
from aiteni.evaluation import check, scoring
from aiteni.evaluation.bank import BankError
from tests.helpers.servers import ROOT

SHIPPED = bank_file.DEFAULT_FILE.read_text(encoding="utf-8")


def edited(tmp_path, old, new, count=1):
    """A copy of the shipped bank with `old` replaced by `new` (which must occur)."""
    assert old in SHIPPED, old
    path = tmp_path / "bank.toml"
    path.write_text(SHIPPED.replace(old, new, count), encoding="utf-8")
    return path


FLAWS = {
    "an id with a dot": ('id = "Q3"', 'id = "Q3.x"', "Q3.x"),
    "an id with brackets": ('id = "Q3_A1"', 'id = "Q3[1]"', "no '.', '[', ']'"),
    "a duplicate question id": ('id = "Q4"', 'id = "Q3"', "duplicate id"),
    "a duplicate option id": ('id = "Q4_A0"', 'id = "Q3_A0"', "duplicate id"),
    "a missing level label": ('"6.5" = ', '"6.7" = ', "no label for 6.5"),
    "options out of order": ("level = 2.5, text", "level = 1.0, text", "not ordered"),
    "a level off the grid": ("level = 3.5, text", "level = 3.4, text", "multiple of 0.5"),
    "a gap in the comments": ("{ min = 2.5, max = 3.5", "{ min = 2.6, max = 3.5", "no text for scores between 2.5 and 2.6"),
    "a markup character": ('text = "还**没和人对拉过', 'text = "<b>还**没和人对拉过', "'<', '>' and '&'"),
    "an unknown dimension": ('dimension = "serve"', 'dimension = "volley"', "'volley'"),
    "an unknown placeholder": ("（{label}）", "（{lable}）", "lable"),
    "an unknown field": ('version = "3.0.0"', 'version = "3.0.0"\nversoin = 1', "versoin"),
    "not TOML": ('version = "3.0.0"', 'version = 3.0.0"', "not valid TOML"),
    "a dimension without a kind": ('kind = "result"\n', "", "kind must be one of skill, result, background"),
    "a kind without tails": ("[comment_tails.background]", "[comment_tails.other]", "one table for each kind"),
    "a neutral option with a level": ("neutral = true,", "neutral = true, level = 3.0,", "a neutral option"),
    "a floor above its option": ("level = 5.5, floor_total = 4.5", "level = 5.5, floor_total = 6.0", "floor_total"),
    "a floor that falls": ("level = 6.5, anchor = \"floor\", floor_total = 5.5", "level = 6.5, anchor = \"floor\", "
                           "floor_total = 4.0", "floor_total is lower"),
    "a summary sentence missing": ('provisional = "', 'provisionel = "', "unknown field 'provisionel'"),
}


@pytest.mark.parametrize("old, new, says", FLAWS.values(), ids=FLAWS.keys())
def test_each_flaw_stops_the_server_with_one_line_naming_file_and_flaw(tmp_path, old, new, says):
    path = edited(tmp_path, old, new)
    with pytest.raises(BankError) as refused:
        create_app({"QUESTIONS_FILE": str(path)})
    message = str(refused.value)
    assert "\n" not in message and message.startswith(str(path)) and says in message


THREE_DIMENSIONS = (("baseline", 1.0), ("forehand", 1.0), ("serve", 1.0))


def tiny_bank(levels, questions=THREE_DIMENSIONS, **summary):
    """A valid bank's text: one basic question per (dimension, weight) of `questions`, each with options at
    `levels`; keyword arguments replace [summary] sentences."""
    sentences = {"level": "{level} {label}", "range": "{low}–{high}", "provisional": "初步", "inconsistent": "矛盾",
                 "advantages": "{names}", "weaknesses": "{names}", "advice": "练", **summary}
    lines = ['version = "t1"', "advanced_threshold = 3.0", "[levels]"]
    lines += [f'"{1 + i / 2:.1f}" = "L{i}"' for i in range(13)]
    for kind in ("skill", "result", "background"):
        lines += [f"[comment_tails.{kind}]", 'strength = "强"', 'par = "平"', 'weakness = "弱"']
    lines += ["[summary]"]
    lines += [f"{key} = {json.dumps(text, ensure_ascii=False)}" for key, text in sentences.items()]
    lines += ['separator = "、"', 'encouragement = [{ text = "好" }]']
    for key in dict(questions):
        lines += [f"[dimensions.{key}]", f'name = "{key}"', 'kind = "skill"', 'comments = [{ text = "评" }]']
    for n, (key, weight) in enumerate(questions):
        options = ", ".join(f'{{ id = "Q{n}_A{k}", level = {level}, text = "选项" }}' for k, level in enumerate(levels))
        lines += ["[[questions]]", f'id = "Q{n}"', 'tier = "basic"', f'dimension = "{key}"', f"weight = {weight}",
                  'text = "问题"', f"options = [{options}]"]
    return "\n".join(lines) + "\n"


EVERY_HALF_LEVEL = [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]


def test_a_placeholder_the_server_cannot_fill_is_a_flaw(tmp_path):
    """{label:d} passes a check of names alone, then fails every evaluation with a 500."""
    path = tmp_path / "bank.toml"
    path.write_text(tiny_bank(EVERY_HALF_LEVEL, level="{level}（{label:d}）"), encoding="utf-8")
    with pytest.raises(BankError, match="cannot fill in"):
        create_app({"QUESTIONS_FILE": str(path)})


def test_every_summary_sentence_is_filled_in_alike(tmp_path):
    """Doubled braces are a literal brace in every sentence, advice included."""
    path = tmp_path / "bank.toml"
    path.write_text(tiny_bank(EVERY_HALF_LEVEL, advice="{{多练}}"), encoding="utf-8")
    bank = bank_file.load(path)
    chosen = {"Q0": bank.options["Q0_A8"], "Q1": bank.options["Q1_A0"], "Q2": bank.options["Q2_A4"]}
    assert "{多练}" in scoring.score(bank, chosen)["summary_text"]


def test_the_order_of_the_answers_never_changes_a_score(tmp_path):
    """Three questions of one dimension: float sums in request order once gave 2.68 one way and 2.67 the other."""
    path = tmp_path / "bank.toml"
    questions = (("baseline", 0.5), ("baseline", 0.7), ("baseline", 0.8), ("serve", 1.0))
    path.write_text(tiny_bank(EVERY_HALF_LEVEL, questions), encoding="utf-8")
    bank = bank_file.load(path)
    answers = {"Q0": "Q0_A1", "Q1": "Q1_A6", "Q2": "Q2_A0", "Q3": "Q3_A4"}
    forwards = scoring.score(bank, scoring.valid_answers(bank, answers))
    backwards = scoring.score(bank, scoring.valid_answers(bank, dict(reversed(answers.items()))))
    assert orjson.dumps(forwards) == orjson.dumps(backwards)


def test_a_bank_that_cannot_tell_two_levels_apart_is_not_calibrated(runner, tmp_path):
    """No option at 3.5 anywhere: a consistent 3.5 player answers like a 3.0 and is rated 3.0."""
    path = tmp_path / "bank.toml"
    path.write_text(tiny_bank([1.5, 2.0, 2.5, 3.0, 4.0, 4.5, 5.0, 5.5]), encoding="utf-8")
    result = runner.invoke(args=["questions", "check", str(path)])
    assert result.exit_code == 1
    assert "not calibrated: a consistent 3.5 player (basic) is rated 3.0" in result.output
    with pytest.raises(BankError, match="not calibrated"):
        create_app({"QUESTIONS_FILE": str(path)})
    path.write_text(tiny_bank(EVERY_HALF_LEVEL), encoding="utf-8")
    assert runner.invoke(args=["questions", "check", str(path)]).exit_code == 0


def test_the_search_finds_a_stronger_option_that_lowers_the_total():
    """The loader refuses such a bank, so one is built in memory: a question's options in reverse."""
    bank = bank_file.load()
    question = bank.questions["Q3"]
    backwards = tuple(reversed(question.options))
    flipped = dataclasses.replace(question, options=backwards, leveled=backwards)
    broken = dataclasses.replace(bank, questions={**bank.questions, "Q3": flipped})
    for search in (lambda b: check.search_flaws(b, 200), check.probe_flaws):
        flaws = search(broken)
        assert flaws and all(flaw.startswith("not monotone") for flaw in flaws)
        assert search(bank) == []


def test_the_server_refuses_to_start_with_a_broken_bank(tmp_path):
    """`python wsgi.py` says why in one line and exits; no traceback."""
    path = edited(tmp_path, '"6.5" = ', '"6.7" = ')
    env = {**os.environ, "AITENI_ENV": "development", "QUESTIONS_FILE": str(path), "LOG_DIR": str(tmp_path / "logs"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    run = subprocess.run([sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True, encoding="utf-8",
                         timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"aiteni refuses to start: {path}: [levels]: no label for 6.5"]


def test_another_bank_serves_its_own_version_and_questions(tmp_path, database_url):
    path = edited(tmp_path, 'version = "3.0.0"', 'version = "club-7"')
    app = create_app({"QUESTIONS_FILE": str(path), "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()
    assert client.get("/api/version").get_json()["data"]["questions_version"] == "club-7"
    response = client.get("/api/evaluation/questions")
    assert response.get_json()["data"]["version"] == "club-7" and "club-7" in response.headers["ETag"]


def test_questions_version_setting_is_ignored_and_said_so(tmp_path, database_url, caplog):
    app = create_app({"QUESTIONS_VERSION": "9.9.9", "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.test_client().get("/api/version").get_json()["data"]["questions_version"] != "9.9.9"
    warnings = [r.getMessage() for r in caplog.records if "QUESTIONS_VERSION" in r.getMessage()]
    assert warnings == ["QUESTIONS_VERSION is ignored: the question bank's own version is questions_version"]


def test_check_prints_the_calibration_table_and_passes_the_shipped_bank(runner):
    result = runner.invoke(args=["questions", "check"])
    assert result.exit_code == 0, result.output
    assert "basic: reaches 1.0–7.0" in result.output and "full: reaches 1.0–7.0" in result.output
    for level in ("1.0", "1.5", "3.0", "5.5", "7.0"):
        assert f"  {level}    {level}0  {level}\n" in result.output
    assert result.output.rstrip().endswith("no flaw found")


def test_check_lists_every_flaw_and_exits_1(runner, tmp_path):
    path = tmp_path / "bank.toml"
    path.write_text(SHIPPED.replace('"6.5" = ', '"6.7" = ').replace('id = "Q4"', 'id = "Q3"'), encoding="utf-8")
    result = runner.invoke(args=["questions", "check", str(path)])
    assert result.exit_code == 1
    assert "no label for 6.5" in result.output and "duplicate id" in result.output


def test_a_bank_saved_with_a_bom_is_read(tmp_path, database_url):
    """Notepad and PowerShell 5.1's Set-Content -Encoding UTF8 write one; tomllib alone refuses it at line 1."""
    path = tmp_path / "bank.toml"
    path.write_text(SHIPPED.replace('version = "3.0.0"', 'version = "bom-1"'), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    app = create_app({"QUESTIONS_FILE": str(path), "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.test_client().get("/api/version").get_json()["data"]["questions_version"] == "bom-1"


def test_a_bank_not_in_utf8_is_refused_saying_what_to_do(tmp_path):
    path = tmp_path / "bank.toml"
    path.write_bytes(SHIPPED.encode("utf-16"))
    with pytest.raises(BankError, match="save the file as UTF-8"):
        create_app({"QUESTIONS_FILE": str(path)})


LINTS = {
    "overlapping counts": ('text = "**一两个来回**就失误"', 'text = "**两三个来回**就失误"',
                           "Q1_A1 and Q1_A2 count overlapping 个来回"),
    "one fact at two levels": ('level = 6.5, anchor = "floor", fact = "pro_events", text = "打过',
                               'level = 6.5, anchor = "floor", fact = "national_ranking", text = "打过',
                               "fact 'national_ranking' is at more than one level"),
    "an unobservable reference": ('text = "**2.5组**至少赢一半"', 'text = "达到**专业水准**"', "'专业水准' names no level"),
    "a label of seniority": ('"4.0" = "中高级球友"', '"4.0" = "资深业余球员"', "says seniority, not skill"),
    "a comment that judges": ("反手的握拍和准备", "反手还是明显的短板，握拍和准备", "'短板' judges the dimension"),
    "too much to read": ('text = "你的二发怎么样？"', 'text = "你的二发怎么样？' + "请仔细回想" * 200 + '"',
                         "characters to read (at most 2400)"),
}


@pytest.mark.parametrize("old, new, says", LINTS.values(), ids=LINTS.keys())
def test_check_lints_what_a_careful_author_avoids(runner, tmp_path, old, new, says):
    """Version 3 §4: questions check exits 1 naming the finding; the server still starts with such a bank."""
    path = edited(tmp_path, old, new)
    result = runner.invoke(args=["questions", "check", str(path)])
    assert result.exit_code == 1 and says in result.output, result.output
    create_app({"QUESTIONS_FILE": str(path)})


def test_the_shipped_bank_reads_within_budget():
    from aiteni.evaluation import lint

    assert lint.lint(bank_file.load()) == []


def test_simulate_prints_its_table_and_passes_the_shipped_bank(runner):
    """Version 3 §5 with fewer players than the command's default, so it fits the quick suite."""
    result = runner.invoke(args=["questions", "simulate", "--players", "300"])
    assert result.exit_code == 0, result.output
    assert "random answers:" in result.output and "range holds L" in result.output
    assert result.output.rstrip().endswith("every property holds")


def test_simulate_exits_1_when_a_property_fails(runner, tmp_path):
    """A bank whose options barely differ cannot tell levels apart: its ranges miss honest players."""
    path = tmp_path / "bank.toml"
    path.write_text(tiny_bank([1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]), encoding="utf-8")
    result = runner.invoke(args=["questions", "simulate", str(path), "--players", "100"])
    assert result.exit_code == 1 and "fails:" in result.output


def test_a_score_on_a_boundary_reads_the_band_starting_there():
    """A forehand of exactly 2.5 was described by the band up to 2.5 ("still forming"), and with a strength
    tail a player read that their shaky forehand was the stroke to build points around."""
    bands = bank_file.load(bank_file.DEFAULT_FILE).dimensions["forehand"].comments
    text = {score: bank_file.band_text(bands, score) for score in (1.0, 2.49, 2.5, 3.5, 7.0)}
    assert text[1.0] == text[2.49] == bands[0].text
    assert text[2.5] == bands[1].text and text[3.5] == bands[2].text and text[7.0] == bands[-1].text
