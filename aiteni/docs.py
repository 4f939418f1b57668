"""The API description: /api/openapi.json always, the Swagger UI page at /api/docs when API_DOCS is on.

Swagger UI's files come from the swagger-ui-py wheel and are served from here,
so the page works on a server without internet access. The wheel is found, not
imported: importing it loads PyYAML too, about 0.5-0.9 MB in every process.
"""
from importlib.util import find_spec
from pathlib import Path

from flask import Blueprint, current_app

from . import openapi

bp = Blueprint("docs", __name__, url_prefix="/api")

ui = Blueprint(
    "docs_ui", __name__, url_prefix="/api/docs",
    static_folder=str(Path(find_spec("swagger_ui").submodule_search_locations[0]) / "static"), static_url_path="/static",
)

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>aiteni API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
</script>
</body>
</html>
"""


@bp.get("/openapi.json")
def openapi_json():
    return current_app.json.response(openapi.document())


@ui.get("")
def page():
    return current_app.response_class(PAGE, mimetype="text/html")
