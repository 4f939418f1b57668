"""Every Flask extension the server runs, created once and unbound; `create_app` binds them.

Flask-Migrate is not here: `create_app` binds it only for `flask db` and the tests.
"""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from .auth.jwtmanager import JWTManager


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
