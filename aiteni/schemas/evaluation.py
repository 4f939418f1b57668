"""The evaluation: the answers and records sent, and the questionnaire, Results and records answered."""
from typing import Annotated, Literal, Optional

from pydantic import Field

from .body import Body, Rule, Shape
from .fields import (
    COMMENT_MAX, COVERAGE, GRID, LABEL_MAX, MAX_DIMENSIONS, MAX_LISTED, MAX_PAGE_SIZE, MAX_SAVED_KEYS, SUMMARY_MAX,
    TIERS, Answers, BankId, Key, Label, Level, RoundedLevel, filled, text,
)

BAD_RECORD = "评测数据格式错误"
BAD_PAGE = "分页参数错误"
NO_RECORD = "记录不存在"
# What each success answers (`success` otherwise: envelope.SUCCESS).
EVALUATED = "评测完成"
SAVED = "保存成功"
DELETED = "删除成功"

Scores = Annotated[dict[Key, Level], Field(max_length=MAX_DIMENSIONS)]
Comments = Annotated[dict[Key, text(COMMENT_MAX)], Field(max_length=MAX_DIMENSIONS)]
# advantages or weaknesses: dimension keys, the most distinct first.
Listed = Annotated[list[Key], Field(max_length=MAX_LISTED)]
SavedKeys = Annotated[list[Key], Field(max_length=MAX_SAVED_KEYS)]


class AnswersInput(Body):
    """Answers that do not fit the current bank are dropped; at least one must fit"""

    # An empty object is valid JSON for the model, and answered 400 `评测数据格式错误` like answers that do not fit.
    answers: Annotated[Answers, Field(json_schema_extra={"minProperties": 1})]


class SentResult(Body):
    total_level: Level
    rounded_level: RoundedLevel
    level_label: filled(LABEL_MAX)
    dimension_scores: Scores
    dimension_comments: Optional[Comments] = None
    advantages: Optional[SavedKeys] = None
    weaknesses: Optional[SavedKeys] = None
    summary_text: Optional[text(SUMMARY_MAX)] = None


class RecordInput(Body):
    answers: Optional[Answers] = None
    result: SentResult

    rules = (Rule(BAD_RECORD),)


class Result(Shape):
    total_level: Level
    rounded_level: RoundedLevel
    level_label: Label
    level_range: Optional[tuple[RoundedLevel, RoundedLevel]] = Field(
        description=f"[low, high]: where the level lies with about {COVERAGE:.0%} probability given "
                    "the answers; null in saved records and records from before it was kept")
    confidence: Optional[float] = Field(
        ge=0, le=1, description="The probability that rounded_level is the player's level; null as level_range")
    provisional: Optional[bool] = Field(
        description="A dimension of the basic stage went unanswered; null as level_range")
    consistent: Optional[bool] = Field(description="false: the answers contradict each other; null as level_range")
    dimension_scores: Scores = Field(description="In the bank's display order")
    dimension_comments: Comments
    advantages: Listed
    weaknesses: Listed
    summary_text: str
    stage: Literal["basic", "full", "saved"] = Field(description="saved: stored through /save")
    questions_version: Optional[str] = Field(description="The bank that scored it; null if saved")
    record_id: Optional[int] = Field(description="null: nothing was stored")
    saved_to_cloud: bool


class BasicResult(Result):
    need_advanced: bool = Field(description="Whether to offer the advanced questions")


class Record(Result):
    """A Result with its id, answers and creation time"""

    id: int
    # /save takes longer lists than scoring makes.
    advantages: SavedKeys
    weaknesses: SavedKeys
    record_id: int = Field(description="Equal to `id`")
    saved_to_cloud: Literal[True]
    answers: Answers
    created_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", description="UTC, ISO 8601 with `Z`")


class Saved(Shape):
    record_id: int


class History(Shape):
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    page_size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    records: list[Record]


class Option(Shape):
    id: BankId
    text: text(min_length=1)


class Question(Shape):
    id: BankId
    question_tier: Literal[TIERS]
    dimension: BankId
    dimensionName: Label
    text: text(min_length=1)
    options: list[Option] = Field(description="From the weakest play to the strongest; `**bold**` marks a phrase")


class BasicQuestion(Question):
    question_tier: Literal["basic"]


class AdvancedQuestion(Question):
    question_tier: Literal["advanced"]


class Questions(Shape):
    version: str = Field(description="/api/version's questions_version")
    basic_questions: list[BasicQuestion] = Field(min_length=1)
    advanced_questions: list[AdvancedQuestion]


class Dimension(Shape):
    key: BankId
    name: Label


LEVEL_NAMES = [f"{level:.1f}" for level in GRID]


class EvaluationConfig(Shape):
    version: str
    levels: list[float] = Field(json_schema_extra={"const": list(GRID)})
    level_labels: dict[Literal[tuple(LEVEL_NAMES)], Label] = Field(json_schema_extra={"required": LEVEL_NAMES})
    dimensions: list[Dimension] = Field(min_length=1, description="In display order")
    advanced_threshold: Level = Field(description="`need_advanced` from this basic level on")
