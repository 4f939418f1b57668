"""The declarations: every request body and answer shape, once (pydantic models, strict).

They give the validation with the contract's status and message per rule (body.py), the
OpenAPI schemas (aiteni/openapi/ reads them), and the limits that the database columns, the
question bank and docs/api.md's tables read or are tested against (fields.py).
Nothing is imported here: fields.py stays a leaf that any module may import.
"""
