"""Entry point: `python wsgi.py`, `flask --app wsgi ...`, or `waitress-serve wsgi:app`."""
import sys

from aiteni import ConfigError, create_app


def _refuse(error):
    sys.exit(f"aiteni refuses to start: {error}")


try:
    app = create_app()
except ConfigError as error:
    _refuse(error)


if __name__ == "__main__":
    from aiteni import serving

    try:
        serving.serve(app)
    except ConfigError as error:
        _refuse(error)
