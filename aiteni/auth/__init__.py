"""Login, tokens and the user's own account: WeChat login, access tokens, login sessions with their
rotating refresh tokens, the user's row.

views.py is the `auth` blueprint (login, verify, refresh, logout, and the signed-in user's
own account); tokens.py issues and checks access tokens; sessions.py opens, rotates and
ends login sessions; users.py keeps the user's row; jwtmanager.py is Flask-JWT-Extended's manager with our memo.
Nothing is imported here: extensions.py needs jwtmanager before the views can load.
"""
