"""A request body read through its declaration: pydantic checks every field (strict: a bool is
no number, "1" is no 1), and the model's first rule that a failure meets gives the contract's
answer, so which message wins when several fields fail is declared, not left to the order
of the checks. A model's docstring and its fields' descriptions are the document's (aiteni/openapi/).
"""
from typing import Callable, ClassVar, NamedTuple, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ApiError, BadRequest

# What went wrong with a field, in the contract's terms.
ABSENT = "absent"  # missing, or null
WRONG_TYPE = "wrong type"
BLANK = "blank"  # a string of whitespace (too long or not)
INVALID = "invalid"  # a string or number that breaks a limit or a pattern


def kind(error):
    """The kind of one of pydantic's errors."""
    if error["type"] == "missing" or error["input"] is None:
        return ABSENT
    if error["type"].endswith("_type"):
        return WRONG_TYPE
    if isinstance(error["input"], str) and not error["input"].strip():
        return BLANK
    return INVALID


class Rule(NamedTuple):
    """A failure of one of `fields` (any, when empty) of one of `kinds` (any, when empty) answers `answer`:
    a message (400), or an ApiError class called with what failed."""

    answer: Union[str, Callable[[str], ApiError]]
    fields: tuple = ()
    kinds: tuple = ()

    def meets(self, error):
        field = error["loc"][0] if error["loc"] else None  # None: the model's own check (no field)
        return (not self.fields or field in self.fields) and (not self.kinds or kind(error) in self.kinds)


class Body(BaseModel):
    """A request body: unknown fields are ignored (API.md); no rule met answers 400 `请求数据格式错误`."""

    model_config = ConfigDict(strict=True, extra="ignore")
    rules: ClassVar[tuple[Rule, ...]] = ()

    @classmethod
    def read(cls, data):
        """`data` (a dict) as this model; the answer of the first rule a failure meets otherwise."""
        try:
            return cls.model_validate(data)
        except ValidationError as invalid:
            raise cls.refusal(invalid.errors(include_url=False, include_context=False)) from None

    @classmethod
    def messages(cls):
        """Every `msg` the model's reading can answer, for the document: 请求数据格式错误 (a body that is
        not an object, or a failure no rule meets), then each rule's, in the rules' order."""
        answers = (BadRequest(rule.answer) if isinstance(rule.answer, str) else rule.answer("") for rule in cls.rules)
        return list(dict.fromkeys([BadRequest().msg, *(answer.msg for answer in answers)]))

    @classmethod
    def refusal(cls, errors):
        for rule in cls.rules:
            error = next((error for error in errors if rule.meets(error)), None)
            if error is not None:
                if isinstance(rule.answer, str):
                    return BadRequest(rule.answer)
                return rule.answer(f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
        return BadRequest()


class Shape(BaseModel):
    """An answer's shape, for the document: every field present, no other."""

    # Views answer plain dicts (orjson): a shape is only built when the document is, not at start.
    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)
