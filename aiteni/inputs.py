"""Reading request input: the JSON body and small value checks shared by the views."""
import math

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


def is_number(value):
    """A real, finite JSON number: not a bool, not a string, not NaN or Infinity."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_text(value, max_length, min_length=1):
    return isinstance(value, str) and min_length <= len(value) <= max_length


def text_mapping(value, max_items, value_ok, msg, required=False):
    """A dict of at most `max_items` 1..32-character string keys whose values pass `value_ok`; {} when
    absent and not required; 400 `msg` otherwise."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or len(value) > max_items:
        raise BadRequest(msg)
    if not all(is_text(k, 32) and value_ok(v) for k, v in value.items()):
        raise BadRequest(msg)
    return value


def positive_int(text, maximum):
    """`text` as an int in 1..maximum, or None. Only plain digits count ("+1", "1.0" do not)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= maximum else None
