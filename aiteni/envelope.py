"""The response envelope `{"code", "msg", "data"}` and the JSON encoder behind it."""
import orjson
from flask import Response, current_app
from flask.json.provider import JSONProvider

# API.md: every JSON answer names its charset. Without one, PowerShell 5.1's Invoke-RestMethod
# reads the body as ISO-8859-1 and garbles every Chinese `msg`.
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class CharsetResponse(Response):
    """The app's response class: `mimetype="application/json"`, wherever a view or Flask writes it,
    goes out with its charset (werkzeug adds one only to text/* types)."""

    def __init__(self, response=None, status=None, headers=None, mimetype=None, content_type=None, **kwargs):
        if mimetype == "application/json" and content_type is None:
            mimetype, content_type = None, JSON_CONTENT_TYPE
        super().__init__(response, status, headers, mimetype, content_type, **kwargs)


SUCCESS = "success"


def ok(data=None, msg=SUCCESS):
    """A 200 envelope; views return it and Flask serialises it. `data` is always there (API.md)."""
    return {"code": 200, "msg": msg, "data": {} if data is None else data}


def error_response(status, msg, data=None):
    """The error envelope with the HTTP status equal to `code`."""
    body = {"code": status, "msg": msg}
    if data is not None:
        body["data"] = data
    response = current_app.json.response(body)
    response.status_code = status
    return response


class OrjsonProvider(JSONProvider):
    """orjson writes UTF-8 (Chinese as characters, never \\uXXXX) and is several times faster."""

    def dumps(self, obj, **kwargs):
        return orjson.dumps(obj).decode()

    def loads(self, s, **kwargs):
        return orjson.loads(s)

    def response(self, *args, **kwargs) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj), mimetype="application/json")
