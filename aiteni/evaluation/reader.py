"""Reads a question bank's TOML into bank.py's objects, keeping every structural flaw it finds."""
import dataclasses
import math
import tomllib

from .bank import (
    CLASSES, DEFAULT_FILE, GRID, HIGHEST, KINDS, LOWEST, TIERS,
    Bank, BankError, Dimension, Option, Question, kernel_mean, log_likelihoods, nearest,
)
from ..schemas.fields import BANK_ID, BANK_VERSION, BANK_VERSION_MAX, COMMENT_MAX, LABEL_MAX
from .toml_values import Reader, half_level, number

# Consecutive options at most a level apart: the balance step's monotonicity relies on it (scoring.PULL_RATE).
MAX_GAP = 1.0
ANCHORS = ("normal", "locator", "floor")
# The sentences of summary_text and what each may say (docs/questions.md, the bank's own comments).
PLACEHOLDERS = {
    "level": {"level", "label"}, "range": {"low", "high"}, "provisional": set(), "inconsistent": set(),
    "advantages": {"names"}, "weaknesses": {"names"}, "advice": set(),
}
OPTION_FIELDS = {"id", "level", "text", "anchor", "cap", "floor_total", "neutral", "fact"}
# A tail is appended to a dimension's comment: the comment's own texts leave room for the longest.
MAX_TAIL = 100


def _name(spec, position):
    """How a flaw names a question or option: its id when it has one, else its position."""
    return spec["id"] if isinstance(spec.get("id"), str) else position


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
            labels[level] = reader.text(table[key], f"[levels] {key}", LABEL_MAX)
    for key in table.keys() - {f"{level:.1f}" for level in GRID}:
        reader.flaw(f"[levels]: {key!r} is not a level of the grid {GRID[0]}, {GRID[1]}, … {GRID[-1]}")
    return labels


def _read_dimensions(reader, table):
    if not isinstance(table, dict) or not table:
        reader.flaw("[dimensions]: missing")
        return {}
    dimensions = {}
    for key, spec in table.items():
        where = f"[dimensions.{key}]"
        if not BANK_ID.fullmatch(key) or not isinstance(spec, dict):
            reader.flaw(f"{where}: a dimension key is letters, digits and '_' and its value a table")
            continue
        for extra in spec.keys() - {"name", "kind", "comments"}:
            reader.flaw(f"{where}: unknown field {extra!r}")
        name = reader.text(spec.get("name"), f"{where} name", LABEL_MAX)
        kind = spec.get("kind")
        if kind not in KINDS:
            reader.flaw(f"{where}: kind must be one of {', '.join(KINDS)}")
        comments = reader.bands(spec.get("comments"), f"{where} comments", COMMENT_MAX - MAX_TAIL)
        dimensions[key] = Dimension(key, name, kind, comments)
    return dimensions


def _read_tails(reader, table):
    """{kind: {class: sentence}}: every kind of dimension has a tail for each class."""
    if not isinstance(table, dict) or set(table) != set(KINDS):
        reader.flaw(f"[comment_tails]: one table for each kind: {', '.join(KINDS)}")
        return {}
    tails = {}
    for kind in KINDS:
        spec = table[kind]
        if not isinstance(spec, dict) or set(spec) != set(CLASSES):
            reader.flaw(f"[comment_tails.{kind}]: exactly {', '.join(CLASSES)}")
            continue
        tails[kind] = {c: reader.text(spec[c], f"[comment_tails.{kind}] {c}", MAX_TAIL) for c in CLASSES}
    return tails


def _option(reader, spec, label, option_id):
    """An Option from its table, or None after a flaw."""
    if spec.get("neutral", False) is not False:
        if spec["neutral"] is not True or spec.keys() & {"level", "anchor", "cap", "floor_total"}:
            reader.flaw(f"{label}: a neutral option (neutral = true) has no level, anchor, cap or floor_total")
            return None
        return Option(option_id, None, reader.text(spec.get("text"), label), "normal", None, None, None,
                      _fact(reader, spec, label))
    level, anchor = spec.get("level"), spec.get("anchor", "normal")
    cap, floor_total = spec.get("cap"), spec.get("floor_total")
    if not half_level(level):
        reader.flaw(f"{label}: level must be a multiple of 0.5 in 1.0–7.0 (or the option neutral = true)")
        return None
    if anchor not in ANCHORS:
        reader.flaw(f"{label}: anchor must be one of {', '.join(ANCHORS)}")
        return None
    if cap is not None and not (half_level(cap) and cap > level):
        reader.flaw(f"{label}: cap must be a multiple of 0.5 above the option's level")
        return None
    if floor_total is not None and not (half_level(floor_total) and floor_total <= level):
        reader.flaw(f"{label}: floor_total must be a multiple of 0.5 at most the option's level")
        return None
    level = float(level)
    return Option(option_id, level, reader.text(spec.get("text"), label), anchor,
                  None if cap is None else float(cap), None if floor_total is None else float(floor_total),
                  kernel_mean(level, anchor), _fact(reader, spec, label))


def _fact(reader, spec, label):
    fact = spec.get("fact")
    if fact is not None and not (isinstance(fact, str) and BANK_ID.fullmatch(fact)):
        reader.flaw(f"{label}: fact is a name of letters, digits and '_'")
        return None
    return fact


def _check_order(reader, where, leveled):
    """Stronger options never lower the total: levels and support rise, caps and floors never fall."""
    for before, after in zip(leveled, leveled[1:]):
        if after.level <= before.level or after.support_mean < before.support_mean:
            reader.flaw(f"{where}: options not ordered from the weakest play to the strongest "
                        f"({after.id} comes after {before.id})")
        elif after.level - before.level > MAX_GAP:
            reader.flaw(f"{where}: {before.id} and {after.id} are more than {MAX_GAP} level apart")
        if (after.cap or math.inf) < (before.cap or math.inf):
            reader.flaw(f"{where}: {after.id}'s cap is lower than {before.id}'s (a stronger answer would lower the level)")
        if (after.floor_total or 0) < (before.floor_total or 0):
            reader.flaw(f"{where}: {after.id}'s floor_total is lower than {before.id}'s "
                        "(a stronger answer would lower the level)")


def _read_options(reader, question_id, specs, seen_ids):
    where = f"question {question_id}"
    if not isinstance(specs, list):
        reader.flaw(f"{where}: needs a list of at least 2 options with a level")
        return ()
    options = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict):
            reader.flaw(f"{where}: option {i} is not a table")
            continue
        label = f"{where}: option {_name(spec, i)}"
        option_id = reader.entry(spec, OPTION_FIELDS, label, seen_ids)
        option = option_id and _option(reader, spec, label, option_id)
        if option:
            options.append(option)
    leveled = [o for o in options if not o.neutral]
    if len(leveled) < 2:
        reader.flaw(f"{where}: needs a list of at least 2 options with a level")
    _check_order(reader, where, leveled)
    likelihoods = dict(zip((o.id for o in leveled), log_likelihoods([o.level for o in leveled])))
    return tuple(o if o.neutral else dataclasses.replace(o, log_likelihood=likelihoods[o.id]) for o in options)


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
        if not number(weight) or not 0 < weight <= 100:
            reader.flaw(f"{where}: weight must be a number above 0, at most 100")
            weight = 1.0
        text = reader.text(spec.get("text"), f"{where} text", plain=True)
        options = _read_options(reader, question_id, spec.get("options"), seen_ids)
        leveled = tuple(o for o in options if not o.neutral)
        consistent = tuple(nearest(leveled, level) for level in GRID) if leveled else ()
        questions[question_id] = Question(question_id, tier, dimension, float(weight), text, options, leveled,
                                          consistent)
    if not any(q.tier == "basic" for q in questions.values()):
        reader.flaw("[[questions]]: no basic question")
    return questions


def _read_summary(reader, spec):
    if not isinstance(spec, dict):
        reader.flaw("[summary]: missing")
        spec = {}
    for extra in spec.keys() - {*PLACEHOLDERS, "separator", "encouragement"}:
        reader.flaw(f"[summary]: unknown field {extra!r}")
    sentences = {key: reader.template(spec.get(key), f"[summary] {key}", allowed)
                 for key, allowed in PLACEHOLDERS.items()}
    separator = spec.get("separator")
    if not isinstance(separator, str) or len(separator) > 4:
        reader.flaw("[summary] separator: a short string")
    return sentences, separator, reader.bands(spec.get("encouragement"), "[summary] encouragement")


def _document(path):
    """The TOML document at `path` (UTF-8, a BOM allowed), or a flaw's text."""
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as error:
        return None, f"cannot read the file ({error.strerror})"
    try:
        # utf-8-sig drops the BOM that Notepad and PowerShell 5.1's Set-Content -Encoding UTF8 write.
        return tomllib.loads(raw.decode("utf-8-sig")), None
    except UnicodeDecodeError:
        return None, "not UTF-8: save the file as UTF-8 (with or without BOM)"
    except tomllib.TOMLDecodeError as error:
        return None, f"not valid TOML ({error})"


def read(path):
    """(the bank, []) when the file at `path` is a valid bank, else (None, every flaw found)."""
    document, unreadable = _document(path)
    if unreadable:
        return None, [unreadable]
    reader = Reader()
    known = {"version", "advanced_threshold", "levels", "dimensions", "comment_tails", "summary", "questions"}
    for extra in document.keys() - known:
        reader.flaw(f"unknown top-level field {extra!r}")
    version = document.get("version")
    if not isinstance(version, str) or not BANK_VERSION.fullmatch(version):
        reader.flaw(f"version: 1–{BANK_VERSION_MAX} letters, digits, '.', '_' or '-'")
    threshold = document.get("advanced_threshold")
    if not (number(threshold) and LOWEST <= threshold <= HIGHEST):
        reader.flaw(f"advanced_threshold: a level in {LOWEST}–{HIGHEST}")
        threshold = HIGHEST
    tails = _read_tails(reader, document.get("comment_tails"))
    summary, separator, encouragement = _read_summary(reader, document.get("summary"))
    labels = _read_levels(reader, document.get("levels"))
    dimensions = _read_dimensions(reader, document.get("dimensions"))
    questions = _read_questions(reader, document.get("questions"), dimensions)
    if reader.flaws:
        return None, reader.flaws
    bank = Bank(
        version=version, advanced_threshold=float(threshold), labels=labels,
        dimensions=dimensions, questions=questions, tails=tails, summary=summary, separator=separator,
        encouragement=encouragement,
        options={option.id: option for question in questions.values() for option in question.options},
        tiers={tier: tuple(q for q in questions.values() if q.tier == tier) for tier in TIERS},
        basic_keys=frozenset(q.dimension for q in questions.values() if q.tier == "basic"),
    )
    return bank, []


def load(path=DEFAULT_FILE):
    """The bank at `path`; `BankError("<path>: <first flaw>")` if it has any flaw."""
    bank, found = read(path)
    if found:
        raise BankError(f"{path}: {found[0]}")
    return bank
