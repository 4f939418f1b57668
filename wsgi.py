"""Entry point: `python wsgi.py [--host HOST] [--port PORT]`, `flask --app wsgi ...`, or `waitress-serve wsgi:app`."""
import argparse
import sys

from aiteni import ConfigError, create_app


def _refuse(error):
    sys.exit(f"aiteni refuses to start: {error}")


class _Arguments(argparse.ArgumentParser):
    """python wsgi.py's options: a bad or unknown one refuses the start in one line, as a bad setting does."""

    def error(self, message):
        _refuse(f"{message} (python wsgi.py --help lists the options)")


def _setting(name):
    """An option read by the rules of the setting of that name (config.py)."""
    import config

    def parse(value):
        try:
            return config.NAMES[name].parse(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{value!r} {error}") from None

    return parse


def _command_line(args):
    parser = _Arguments(
        prog="python wsgi.py",
        description="Serve aiteni with waitress. Every other setting comes from instance/config.py, the "
                    "environment or .env (docs/configuration.md).",
    )
    parser.add_argument("--host", type=_setting("HOST"), help="the address to listen on (overrides HOST)")
    parser.add_argument("--port", type=_setting("PORT"), help="the port to listen on, 0 for any free one (overrides PORT)")
    options = parser.parse_args(args)
    return {name: value for name, value in (("HOST", options.host), ("PORT", options.port)) if value is not None}


# The one thing importing this file does (STYLE.md): the app `waitress-serve wsgi:app` and `flask --app wsgi` look up,
# made from the settings of this moment; config.py and aiteni/ read nothing before it.
try:
    app = create_app(_command_line(sys.argv[1:]) if __name__ == "__main__" else None)
except ConfigError as error:
    _refuse(error)


if __name__ == "__main__":
    from aiteni import serving

    try:
        serving.serve(app)
    except ConfigError as error:
        _refuse(error)
