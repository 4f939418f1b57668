"""Entry point: `waitress-serve wsgi:app`, `flask --app wsgi ...`, or `python wsgi.py`."""
import sys

from aiteni import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"aiteni refuses to start: {error}")


if __name__ == "__main__":
    import waitress

    import config

    waitress.serve(app, host=config.HOST, port=config.PORT, threads=config.THREADS, ident="aiteni")
