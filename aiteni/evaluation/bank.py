"""The question bank: one TOML file (docs/questions-spec.md) read into frozen objects, every field checked.

`load(path)` raises `BankError` with one line naming the file and its first
flaw; `read(path)` lists them all (for `flask questions check`). Only the
structure is checked here; whether the bank scores well (calibration,
monotonicity) is `check.py`'s business.
"""
import math
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .. import ConfigError

DEFAULT_FILE = Path(__file__).with_name("questions.toml")

# The level grid: 1.0 to 7.0 in half levels, 6.5 included (13 levels).
STEP = 0.5
GRID = tuple(1.0 + STEP * i for i in range(13))
LOWEST, HIGHEST = GRID[0], GRID[-1]

# Consecutive options at most a level apart: the balance step's monotonicity relies on it (scoring.PULL_RATE).
MAX_GAP = 1.0
TIERS = ("basic", "advanced")
ANCHORS = ("normal", "locator", "floor")
# Question and option ids become a data path in the client (`answers.${id}`): no '.', '[' or ']'.
ID = re.compile(r"[A-Za-z0-9_]{1,32}")
# The record columns and /save's rules: a label fits 32 characters, a comment 500.
MAX_LABEL = 32
MAX_COMMENT = 500
PLACEHOLDERS = {"level": {"level", "label"}, "advantages": {"names"}, "weaknesses": {"names"}, "advice": set()}
TAILS = ("above", "even", "below")

# Support kernels (docs/questions-spec.md, Scoring 1): the spread of an answer's support around its option's level.
SIGMA = 1.0
LOCATOR_SIGMA = 0.5


class BankError(ConfigError):
    """A bank the server cannot use, so the server does not start; one line: `<file>: <flaw>`."""


@dataclass(frozen=True, eq=False)
class Option:
    """Compared by identity: `option in question.options` runs for every answer of every request."""

    id: str
    level: float
    text: str
    anchor: str
    cap: float | None
    # The mean of this option's support over the grid (scoring step 2 only needs the mean).
    support_mean: float


@dataclass(frozen=True)
class Question:
    id: str
    tier: str
    dimension: str
    weight: float
    text: str
    options: tuple[Option, ...]
    # For each grid level, the option a player of exactly that level picks: the nearest, the lower on a tie.
    consistent: tuple[Option, ...]


@dataclass(frozen=True)
class Band:
    """A text for scores from `low` to `high`, both inclusive."""

    low: float
    high: float
    text: str


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    comments: tuple[Band, ...]


@dataclass(frozen=True, eq=False)
class Bank:
    """A loaded bank. Hashed by identity, so scoring can cache per bank."""

    version: str
    advanced_threshold: float
    labels: dict[float, str]
    dimensions: dict[str, Dimension]
    questions: dict[str, Question]
    tails: dict[str, str]
    summary: dict[str, str]
    separator: str
    encouragement: tuple[Band, ...]
    options: dict[str, Option]
    # The questions of each tier, in the bank's order: read per request (/questions, need_advanced).
    tiers: dict[str, tuple[Question, ...]]

    def tier(self, tier):
        return self.tiers[tier]


def band_text(bands, value):
    """The text of the first band holding `value`."""
    return next(band.text for band in bands if band.low <= value <= band.high)


def kernel_mean(level, anchor):
    """The mean of an option's support over the grid, normalised to unit mass.

    A Gaussian around the level (σ 1.0; a locator's σ 0.5); a floor's support
    starts at its level. Normalising each kernel on the grid means an answer
    pulls with its question's weight wherever its level sits (the origin's
    kernels lost mass at the grid's edge, so a low answer pulled less).
    """
    sigma = LOCATOR_SIGMA if anchor == "locator" else SIGMA
    support = [
        0.0 if anchor == "floor" and point < level else math.exp(-((point - level) ** 2) / (2 * sigma**2))
        for point in GRID
    ]
    return sum(point * s for point, s in zip(GRID, support)) / sum(support)


def _nearest(options, level):
    return min(options, key=lambda option: (abs(option.level - level), option.level))


def _name(spec, position):
    """How a flaw names a question or option: its id when it has one, else its position."""
    return spec["id"] if isinstance(spec.get("id"), str) else position


def _half_level(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and LOWEST <= value <= HIGHEST and (
        float(value) * 2
    ).is_integer()


class _Reader:
    """Walks the TOML document, keeping every flaw it finds."""

    def __init__(self):
        self.flaws = []

    def flaw(self, text):
        self.flaws.append(text)

    def entry(self, spec, fields, where, seen_ids):
        """The id of a question or option table, its fields checked; None when it has no usable id."""
        for extra in spec.keys() - fields:
            self.flaw(f"{where}: unknown field {extra!r}")
        entry_id = spec.get("id")
        if not isinstance(entry_id, str) or not ID.fullmatch(entry_id):
            self.flaw(f"{where}: an id is 1–32 letters, digits or '_' (no '.', '[', ']')")
            return None
        if entry_id in seen_ids:
            self.flaw(f"{where}: duplicate id")
        seen_ids.add(entry_id)
        return entry_id

    def text(self, value, where, max_length=None, plain=False):
        if not isinstance(value, str) or not value.strip():
            self.flaw(f"{where}: missing or empty text")
            return ""
        if max_length and len(value) > max_length:
            self.flaw(f"{where}: longer than {max_length} characters")
        if re.search(r"[<>&]", value):
            self.flaw(f"{where}: '<', '>' and '&' are not allowed (the client renders it as HTML)")
        if plain and "**" in value:
            self.flaw(f"{where}: '**' is shown as is in a question's text")
        return value

    def template(self, value, where, allowed):
        """A sentence with {placeholders}: filled in here once, so a format the server cannot fill is a flaw."""
        value = self.text(value, where)
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError:
            self.flaw(f"{where}: unbalanced braces")
            return value
        if fields - allowed:
            self.flaw(f"{where}: unknown placeholder(s) {', '.join(sorted(fields - allowed))}")
            return value
        try:
            value.format(**dict.fromkeys(allowed, "3.5"))
        except (ValueError, KeyError, IndexError, AttributeError):
            self.flaw(f"{where}: a placeholder is written in a form the server cannot fill in ({{name}} only)")
        return value

    def bands(self, value, where, max_length=None):
        """Ranges by score: a list of {min?, max?, text} covering 1.0–7.0 together."""
        if not isinstance(value, list) or not value:
            self.flaw(f"{where}: must be a non-empty list of {{min, max, text}}")
            return ()
        bands = []
        for i, item in enumerate(value):
            if not isinstance(item, dict) or set(item) - {"min", "max", "text"}:
                self.flaw(f"{where}[{i}]: only min, max and text are allowed")
                continue
            low, high = item.get("min", LOWEST), item.get("max", HIGHEST)
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high)) or low > high:
                self.flaw(f"{where}[{i}]: min and max must be numbers with min <= max")
                continue
            bands.append(Band(float(low), float(high), self.text(item.get("text"), f"{where}[{i}]", max_length)))
        reached = LOWEST
        for band in sorted(bands, key=lambda b: b.low):
            if band.low > reached:
                self.flaw(f"{where}: no text for scores between {reached} and {band.low}")
            reached = max(reached, band.high)
        if bands and reached < HIGHEST:
            self.flaw(f"{where}: no text for scores between {reached} and {HIGHEST}")
        return tuple(bands)


def _read_levels(reader, table):
    if not isinstance(table, dict):
        reader.flaw("[levels]: missing")
        return {}
    labels = {}
    for level in GRID:
        key = f"{level:.1f}"
        if key not in table:
            reader.flaw(f"[levels]: no label for {key}")
        else:
            labels[level] = reader.text(table[key], f"[levels] {key}", MAX_LABEL)
    for key in table.keys() - {f"{level:.1f}" for level in GRID}:
        reader.flaw(f"[levels]: {key!r} is not a level of the grid 1.0, 1.5, … 7.0")
    return labels


def _read_dimensions(reader, table, longest_tail):
    if not isinstance(table, dict) or not table:
        reader.flaw("[dimensions]: missing")
        return {}
    dimensions = {}
    for key, spec in table.items():
        where = f"[dimensions.{key}]"
        if not ID.fullmatch(key) or not isinstance(spec, dict):
            reader.flaw(f"{where}: a dimension key is letters, digits and '_' and its value a table")
            continue
        for extra in spec.keys() - {"name", "comments"}:
            reader.flaw(f"{where}: unknown field {extra!r}")
        name = reader.text(spec.get("name"), f"{where} name", MAX_LABEL)
        comments = reader.bands(spec.get("comments"), f"{where} comments", MAX_COMMENT - longest_tail)
        dimensions[key] = Dimension(key, name, comments)
    return dimensions


def _read_options(reader, question_id, specs, seen_ids):
    where = f"question {question_id}"
    if not isinstance(specs, list) or len(specs) < 2:
        reader.flaw(f"{where}: needs a list of at least 2 options")
        return ()
    options = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict):
            reader.flaw(f"{where}: option {i} is not a table")
            continue
        label = f"{where}: option {_name(spec, i)}"
        option_id = reader.entry(spec, {"id", "level", "text", "anchor", "cap"}, label, seen_ids)
        if option_id is None:
            continue
        level, anchor, cap = spec.get("level"), spec.get("anchor", "normal"), spec.get("cap")
        if not _half_level(level):
            reader.flaw(f"{label}: level must be a multiple of 0.5 in 1.0–7.0")
            continue
        if anchor not in ANCHORS:
            reader.flaw(f"{label}: anchor must be one of {', '.join(ANCHORS)}")
            continue
        if cap is not None and not (_half_level(cap) and cap > level):
            reader.flaw(f"{label}: cap must be a multiple of 0.5 above the option's level")
            continue
        text = reader.text(spec.get("text"), label)
        level = float(level)
        options.append(Option(option_id, level, text, anchor, None if cap is None else float(cap),
                              kernel_mean(level, anchor)))
    for before, after in zip(options, options[1:]):
        if after.level <= before.level or after.support_mean < before.support_mean:
            reader.flaw(f"{where}: options not ordered from the weakest play to the strongest "
                        f"({after.id} comes after {before.id})")
        elif after.level - before.level > MAX_GAP:
            reader.flaw(f"{where}: {before.id} and {after.id} are more than {MAX_GAP} level apart")
        if (after.cap or math.inf) < (before.cap or math.inf):
            reader.flaw(f"{where}: {after.id}'s cap is lower than {before.id}'s (a stronger answer would lower the level)")
    return tuple(options)


def _read_questions(reader, specs, dimensions):
    if not isinstance(specs, list) or not specs:
        reader.flaw("[[questions]]: missing")
        return {}
    questions, seen_ids = {}, set()
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict):
            reader.flaw(f"question {i + 1}: not a table")
            continue
        where = f"question {_name(spec, i + 1)}"
        question_id = reader.entry(spec, {"id", "tier", "dimension", "weight", "text", "options"}, where, seen_ids)
        if question_id is None:
            continue
        tier, dimension, weight = spec.get("tier"), spec.get("dimension"), spec.get("weight")
        if tier not in TIERS:
            reader.flaw(f"{where}: tier must be basic or advanced")
        if dimension not in dimensions:
            reader.flaw(f"{where}: dimension {dimension!r} has no [dimensions.{dimension}] table")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 100:
            reader.flaw(f"{where}: weight must be a number above 0, at most 100")
            weight = 1.0
        text = reader.text(spec.get("text"), f"{where} text", plain=True)
        options = _read_options(reader, question_id, spec.get("options"), seen_ids)
        consistent = tuple(_nearest(options, level) for level in GRID) if options else ()
        questions[question_id] = Question(question_id, tier, dimension, float(weight), text, options, consistent)
    if not any(q.tier == "basic" for q in questions.values()):
        reader.flaw("[[questions]]: no basic question")
    return questions


def read(path):
    """(the bank, []) when the file at `path` is a valid bank, else (None, every flaw found)."""
    reader = _Reader()
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        return None, [f"cannot read the file ({error.strerror})"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return None, [f"not valid TOML ({error})"]
    known = {"version", "advanced_threshold", "levels", "dimensions", "comment_tails", "summary", "questions"}
    for extra in document.keys() - known:
        reader.flaw(f"unknown top-level field {extra!r}")
    version = document.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9A-Za-z._-]{1,32}", version):
        reader.flaw("version: 1–32 letters, digits, '.', '_' or '-'")
    threshold = document.get("advanced_threshold")
    if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and LOWEST <= threshold <= HIGHEST):
        reader.flaw("advanced_threshold: a level in 1.0–7.0")
        threshold = HIGHEST
    tails_spec = document.get("comment_tails")
    if not isinstance(tails_spec, dict) or set(tails_spec) != set(TAILS):
        reader.flaw(f"[comment_tails]: exactly {', '.join(TAILS)}")
        tails_spec = {}
    tails = {key: reader.text(tails_spec.get(key), f"[comment_tails] {key}", 100) for key in TAILS if tails_spec}
    summary_spec = document.get("summary")
    if not isinstance(summary_spec, dict):
        reader.flaw("[summary]: missing")
        summary_spec = {}
    for extra in summary_spec.keys() - {*PLACEHOLDERS, "separator", "encouragement"}:
        reader.flaw(f"[summary]: unknown field {extra!r}")
    summary = {
        key: reader.template(summary_spec.get(key), f"[summary] {key}", allowed)
        for key, allowed in PLACEHOLDERS.items()
    }
    separator = summary_spec.get("separator")
    if not isinstance(separator, str) or len(separator) > 4:
        reader.flaw("[summary] separator: a short string")
    encouragement = reader.bands(summary_spec.get("encouragement"), "[summary] encouragement")
    labels = _read_levels(reader, document.get("levels"))
    dimensions = _read_dimensions(reader, document.get("dimensions"), max(map(len, tails.values()), default=0))
    questions = _read_questions(reader, document.get("questions"), dimensions)
    if reader.flaws:
        return None, reader.flaws
    bank = Bank(
        version=version, advanced_threshold=float(threshold), labels=labels,
        dimensions=dimensions, questions=questions, tails=tails, summary=summary, separator=separator,
        encouragement=encouragement,
        options={option.id: option for question in questions.values() for option in question.options},
        tiers={tier: tuple(q for q in questions.values() if q.tier == tier) for tier in TIERS},
    )
    return bank, []


def load(path=DEFAULT_FILE):
    """The bank at `path`; `BankError("<path>: <first flaw>")` if it has any flaw."""
    bank, found = read(path)
    if found:
        raise BankError(f"{path}: {found[0]}")
    return bank
