"""Schemathesis against the live app (in-process WSGI): every documented operation, generated
valid and invalid input, with a freshly signed-in user per case.

No 5xx on any input, and every answer conforms to /api/openapi.json: status, content type,
body schema (so each `msg` is one the document lists). /basic and /full get answers of the
question bank, anonymous and signed in (see `evaluation_case`). Run: `.venv/bin/python -m pytest fuzz`
(FUZZ_EXAMPLES sets the examples per operation; TEST_DATABASE_URL runs it on MariaDB).
"""
import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path

os.environ["AITENI_ENV"] = "testing"

import schemathesis  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from aiteni import create_app  # noqa: E402
from aiteni.evaluation import current_bank  # noqa: E402
from aiteni.extensions import db  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
# A MariaDB/MySQL database the run may wipe, as for the test suite; SQLite in a temp dir otherwise.
DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def build_app():
    """The app on a freshly migrated database, logging to a temp dir, with dev login and no WeChat credentials
    (share codes drawn here, phone codes that are numbers: nothing calls WeChat)."""
    directory = Path(tempfile.mkdtemp(prefix="aiteni-fuzz-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL or f"sqlite:///{directory / 'fuzz.db'}",
        "LOG_DIR": str(directory / "logs"),
        "WECHAT_DEV_LOGIN": True,
        "WECHAT_APPID": "",
        "WECHAT_APPSECRET": "",
    })
    with app.app_context():
        db.drop_all()
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
    return app


app = build_app()
client = app.test_client()
config = SchemathesisConfig.from_dict({
    # Unknown query parameters are ignored by design, not errors to report.
    # Tokens come from FreshUser below; schemathesis itself sends none.
    "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
_logins = itertools.count(1)
with app.app_context():
    BANK = current_bank()
QUESTIONS = list(BANK.questions.values())
OPTIONS = list(BANK.options.values())
BASIC_OPTIONS = {q.id: {o.id for o in q.options} for q in QUESTIONS if q.tier == "basic"}
WEAKEST_BASIC = {q.id: q.options[0].id for q in QUESTIONS if q.tier == "basic"}
EVALUATIONS = ("/api/evaluation/basic", "/api/evaluation/full")


@schema.auth(refresh_interval=None, retry_on=[])
class FreshUser:
    """A new user per case: a case that logs out or deletes the account cannot spoil the next one."""

    def get(self, case, context):
        body = {"code": f"fuzz-{next(_logins)}", "nickName": "模糊", "avatarUrl": "https://mmbiz.qpic.cn/f.png"}
        return client.post("/api/auth/login", json=body).get_json()["data"]["token"]

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def fitting(answers):
    """Generated answers never fit the bank, so a valid body would only ever be refused: two pairs in
    three become a bank question with its own option, or with any option (dropped unless its own).
    The first pair always fits, so the body is scored."""
    kept, any_option, own_option = {}, {}, {}
    for i, (key, value) in enumerate(answers.items()):
        question = QUESTIONS[(i + len(key)) % len(QUESTIONS)]
        if i % 3 == 0:
            own_option[question.id] = question.options[len(value) % len(question.options)].id
        elif i % 3 == 1:
            any_option[question.id] = OPTIONS[len(value) % len(OPTIONS)].id
        else:
            kept[key] = value
    return kept | any_option | own_option


def evaluation_case(case):
    """A valid body's answers made to fit the bank; their number picks the caller: anonymous, signed in,
    or (for /full) signed in with a basic record of the same basic answers to complete."""
    answers = case.body.get("answers") if isinstance(case.body, dict) else None
    if not isinstance(answers, dict):
        return
    caller, valid = len(answers) % 3, case.meta.generation.mode.is_positive
    if valid:
        answers = fitting(answers)
        case.body = {**case.body, "answers": answers}
    if caller == 0:
        case.headers.pop("Authorization", None)
    elif caller == 2 and valid and case.path == "/api/evaluation/full":
        basic = {q: o for q, o in answers.items() if o in BASIC_OPTIONS.get(q, ())} or WEAKEST_BASIC
        response = client.post(EVALUATIONS[0], json={"answers": basic}, headers=case.headers)
        assert response.get_json()["data"]["saved_to_cloud"], response.get_json()


def phone_case(case):
    """The dev stand-in takes a phone code that is a mainland number (any other is refused, as WeChat refuses a
    bad code): a valid body's code becomes one."""
    if case.meta.generation.mode.is_positive and isinstance(case.body, dict) and "code" in case.body:
        case.body = {**case.body, "code": f"139{len(case.body['code']) % 10 ** 8:08d}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_api(case):
    if case.path in EVALUATIONS:
        evaluation_case(case)
    if case.path == "/api/user/phone":
        phone_case(case)
    case.call_and_validate()
