"""`flask --app wsgi admin ...`: console accounts are made and changed here only, never through the web."""
import re
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import audit, passwords
from .auth import end_sessions
from .models import AdminAccount

admin_cli = AppGroup("admin", help="Accounts of the operators' console (/admin/).")

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def _account(name):
    account = db.session.scalar(sa.select(AdminAccount).where(AdminAccount.name == name))
    if account is None:
        raise click.ClickException(f"no console account named {name!r} (flask --app wsgi admin list)")
    return account


def _new_password(from_stdin):
    """A new password: asked twice at a terminal, or one line of stdin; refused when too weak."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    problem = passwords.weakness(password)
    if problem:
        raise click.ClickException(problem)
    return password


def _name(_ctx, _param, value):
    if not NAME.fullmatch(value):
        raise click.ClickException(f"{value!r}: a name is 1 to 32 letters, digits, '.', '_' or '-'")
    return value


stdin_option = click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")


@admin_cli.command("create")
@click.argument("name", callback=_name)
@stdin_option
def create(name, password_stdin):
    """Create an account NAME (asks for its password twice)."""
    if db.session.scalar(sa.select(AdminAccount.id).where(AdminAccount.name == name)) is not None:
        raise click.ClickException(f"a console account named {name!r} exists already")
    db.session.add(AdminAccount(name=name, password_hash=passwords.hash_password(_new_password(password_stdin)),
                                enabled=True, failed_logins=0))
    audit.record(audit.CLI, "account_created", target=name)
    db.session.commit()
    click.echo(f"created console account {name}")
    if not current_app.config["ADMIN_ENABLED"]:
        click.echo("the console is off: ADMIN_ENABLED=0 (docs/console.md)")


@admin_cli.command("list")
def list_accounts():
    """List the accounts: name, enabled, created, last sign-in."""
    for account in db.session.scalars(sa.select(AdminAccount).order_by(AdminAccount.name)):
        state = "enabled" if account.enabled else "disabled"
        last = account.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if account.last_login_at else "never"
        click.echo(f"{account.name}\t{state}\tcreated {account.created_at:%Y-%m-%d}\tlast sign-in {last}")


def _set_enabled(name, enabled):
    account = _account(name)
    account.enabled = enabled
    if not enabled:
        end_sessions(account.id)
    else:
        account.failed_logins, account.locked_until = 0, None
    audit.record(audit.CLI, "account_enabled" if enabled else "account_disabled", target=name)
    db.session.commit()
    click.echo(f"{'enabled' if enabled else 'disabled'} console account {name}")


@admin_cli.command("disable")
@click.argument("name")
def disable(name):
    """Disable NAME: its sessions end now, it cannot sign in."""
    _set_enabled(name, False)


@admin_cli.command("enable")
@click.argument("name")
def enable(name):
    """Enable NAME again (and lift a lockout)."""
    _set_enabled(name, True)


@admin_cli.command("password")
@click.argument("name")
@stdin_option
def password(name, password_stdin):
    """Set NAME's password; its sessions end."""
    account = _account(name)
    account.password_hash = passwords.hash_password(_new_password(password_stdin))
    end_sessions(account.id)
    audit.record(audit.CLI, "password_changed", target=name)
    db.session.commit()
    click.echo(f"changed the password of {name}; its sessions ended")
