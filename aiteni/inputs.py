"""Reading request input: the JSON body (its fields are checked by its declaration, aiteni/schemas/) and
whole numbers in query strings and paths."""
from flask import request

from .errors import BadRequest


def json_body(optional=False):
    """The body as a JSON object (dict), whatever the Content-Type; 400 otherwise.

    With `optional=True` an empty body counts as `{}`.
    """
    if optional and not request.get_data(cache=True):
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest()
    return body


def positive_int(text, maximum):
    """`text` as an int in 1..maximum, or None. Only plain digits count ("+1", "1.0" do not)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= maximum else None
