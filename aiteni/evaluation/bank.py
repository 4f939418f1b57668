"""The question bank: one TOML file (docs/questions-spec.md) read into frozen objects.

`load(path)` raises `BankError` with one line naming the file and its first
flaw; `read(path)` lists them all (for `flask questions check`). The reading
and the structural checks are reader.py's; whether the bank scores well
(calibration, monotonicity, floors, caps) is check.py's; what a careful author
avoids (overlapping numbers, one fact at two levels, the reading load) is
lint.py's.
"""
import math
from dataclasses import dataclass
from pathlib import Path

from .. import ConfigError
from ..schemas import fields

DEFAULT_FILE = Path(__file__).with_name("questions.toml")

# The level grid and the tiers: the contract's (schemas/fields.py); reader.py holds a bank's ids, labels and
# comments to the same file's limits, so its texts fit the record columns and /save's rules.
GRID, LOWEST, HIGHEST, STEP, TIERS = fields.GRID, fields.LOWEST, fields.HIGHEST, fields.STEP, fields.TIERS

# What a dimension measures, and so which comment tails fit it (docs/questions-spec.md, Version 3 §1):
# a skill can be built on; a result or a background informs the level but is no stroke to play around.
KINDS = ("skill", "result", "background")
# How a dimension compares with the player's level: each Result classifies every dimension once.
CLASSES = ("strength", "par", "weakness")

# Support kernels (docs/questions-spec.md, Scoring 1): the spread of an answer's support around its option's level.
SIGMA = 1.0
LOCATOR_SIGMA = 0.5


class BankError(ConfigError):
    """A bank the server cannot use, so the server does not start; one line: `<file>: <flaw>`."""


@dataclass(frozen=True, eq=False)
class Option:
    """Compared by identity: `option in question.options` runs for every answer of every request.

    A `neutral` option counts as answered but carries no level (`level`,
    `support_mean` None): "no tournaments this year" says nothing of skill.
    `cap` and `floor_total` bound the total level of whoever picks it.
    """

    id: str
    level: float | None
    text: str
    anchor: str
    cap: float | None
    floor_total: float | None
    # The mean of this option's support over the grid (scoring step 2 only needs the mean).
    support_mean: float | None
    # Options sharing a fact must share a level (lint.py).
    fact: str | None = None
    # log P(a player of grid level L, answering with noise NOISE[j], picks this option): [j][L]; None if neutral.
    log_likelihood: tuple[tuple[float, ...], ...] | None = None

    @property
    def neutral(self):
        return self.level is None


@dataclass(frozen=True)
class Question:
    id: str
    tier: str
    dimension: str
    weight: float
    text: str
    options: tuple[Option, ...]
    # The options with a level, weakest first: the scale the question measures on.
    leveled: tuple[Option, ...]
    # For each grid level, the option a player of exactly that level picks: the nearest, the lower on a tie.
    consistent: tuple[Option, ...]


@dataclass(frozen=True)
class Band:
    """A text for scores from `low` up to `high`: `low` included, `high` not (but the top of the scale)."""

    low: float
    high: float
    text: str


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    kind: str
    comments: tuple[Band, ...]


@dataclass(frozen=True, eq=False)
class Bank:
    """A loaded bank. Hashed by identity, so scoring can cache per bank."""

    version: str
    advanced_threshold: float
    labels: dict[float, str]
    dimensions: dict[str, Dimension]
    questions: dict[str, Question]
    # {kind: {class: sentence}}: the tail of each dimension comment.
    tails: dict[str, dict[str, str]]
    summary: dict[str, str]
    separator: str
    encouragement: tuple[Band, ...]
    options: dict[str, Option]
    # The questions of each tier, in the bank's order: read per request (/questions, need_advanced).
    tiers: dict[str, tuple[Question, ...]]
    # The dimensions of the basic questions: a Result missing one is provisional (read per request).
    basic_keys: frozenset[str]

    def tier(self, tier):
        return self.tiers[tier]


def band_text(bands, value):
    """The text of the first band holding `value`. A score on a boundary belongs to the band starting there
    (2.5 reads "2.5-3.5", not "up to 2.5"), so two bands that meet never both claim it."""
    return next(band.text for band in bands if band.low <= value < band.high or value == band.high == HIGHEST)


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


# The scatter of honest answers the certainty's posterior averages over (certainty.py): an honest
# player's answer is the option nearest their level plus normal noise of one of these SDs.
NOISE = (0.15, 0.3, 0.5, 0.75, 1.0)


def log_likelihoods(levels):
    """For options at `levels` (increasing), log P(option | L, σ) over NOISE × GRID: the chance that a
    player of level L picks it when their answer is L + N(0, σ), rounded to the nearest option."""
    cuts = [-math.inf, *((a + b) / 2 for a, b in zip(levels, levels[1:])), math.inf]

    def below(x, level, sigma):
        return 0.5 * (1 + math.erf((x - level) / (sigma * math.sqrt(2))))

    return [
        tuple(
            tuple(math.log(max(below(high, level, sigma) - below(low, level, sigma), 1e-12)) for level in GRID)
            for sigma in NOISE
        )
        for low, high in zip(cuts, cuts[1:])
    ]


def nearest(options, level):
    """The option of `options` (leveled) nearest `level`, the lower on a tie: a consistent player's answer."""
    return min(options, key=lambda option: (abs(option.level - level), option.level))


# The reader builds the types above; importing it last lets `bank.load` stay the one entry point.
from .reader import load, read  # noqa: E402
