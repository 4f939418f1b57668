"""Nothing is read at import: config.py and every module of aiteni/ leave the environment alone until
create_app, so an app is made from the environment of that moment (STYLE.md)."""
import json

from tests.helpers.wsgi_process import clean_env, run

# In a fresh interpreter: config and every aiteni module imported under a poisoned environment through
# an os.environ that notes each name our own code reads, then the environment changed, then wsgi.py's app.
IMPORT_THEN_CREATE = r"""
import collections.abc, importlib, json, os, pkgutil, sys, traceback

root = os.getcwd()
read = []


class Watched(collections.abc.MutableMapping):
    def __init__(self, inner):
        self.inner = inner

    def note(self, name):
        # The nearest caller with a file: not this script, nor the frozen os and collections.abc in between.
        reader = next(frame for frame in reversed(traceback.extract_stack()[:-2]) if not frame.filename.startswith("<"))
        path = os.path.abspath(reader.filename)
        if path.startswith(root) and os.sep + ".venv" + os.sep not in path:
            read.append(f"{name} at {os.path.relpath(path, root)}:{reader.lineno}")

    def __getitem__(self, name):
        self.note(name)
        return self.inner[name]

    def __iter__(self):
        self.note("(every name)")
        return iter(self.inner)

    def __len__(self):
        return len(self.inner)

    def __setitem__(self, name, value):
        self.inner[name] = value

    def __delitem__(self, name):
        del self.inner[name]


real, os.environ = os.environ, Watched(os.environ)
import config, aiteni
for module in pkgutil.walk_packages(aiteni.__path__, "aiteni."):
    importlib.import_module(module.name)
os.environ = real
os.environ.update(AITENI_ENV="testing", TEST_DATABASE_URL="sqlite://", LOG_LEVEL="ERROR")
del os.environ["PORT"]
import wsgi
settings = wsgi.app.config
print(json.dumps({"read": read, "env": settings["ENV_NAME"], "database": settings["SQLALCHEMY_DATABASE_URI"],
                  "port": settings["PORT"], "jwt_secret": settings["JWT_SECRET_KEY"] == config.TestingConfig.JWT_SECRET}))
"""


def test_config_and_aiteni_read_nothing_at_import_and_the_app_takes_the_environment_of_its_creation(tmp_path):
    poisoned = clean_env(AITENI_ENV="production", TEST_DATABASE_URL=f"sqlite:///{tmp_path / 'poisoned.db'}",
                         PORT="not a port")
    done = run(["-c", IMPORT_THEN_CREATE], poisoned)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "read": [], "env": "testing", "database": "sqlite://", "port": 8000, "jwt_secret": True,
    }
    assert not (tmp_path / "poisoned.db").exists()


# What a serving process never needs at start: the console's form and password libraries (~1 MB, loaded
# with the first form or password checked), Swagger UI and PyYAML (~0.5-0.9 MB, its files are found, not
# imported), alembic (~11 MB, only the flask command migrates).
LOADED_WHEN_USED = ["alembic", "argon2", "flask_migrate", "flask_wtf", "swagger_ui", "wtforms", "yaml"]


def test_a_serving_process_loads_only_what_serving_needs(tmp_path):
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs", ADMIN_ENABLED=1,
                    API_DOCS=1)
    check = f"import sys, wsgi; print(sorted(set({LOADED_WHEN_USED!r}) & set(sys.modules)))"
    done = run(["-c", check], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
