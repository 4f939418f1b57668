"""Entry point: `python wsgi.py`, `flask --app wsgi ...`, or `waitress-serve wsgi:app`."""
import sys

from aiteni import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"aiteni refuses to start: {error}")


if __name__ == "__main__":
    from aiteni import serving

    try:
        serving.serve(app)
    except ConfigError as error:
        sys.exit(f"aiteni refuses to start: {error}")
