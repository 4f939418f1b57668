"""Measured, not asserted: simulated players through a bank (docs/questions-spec.md, Version 3 §5).

Three kinds of player answer every question of a stage:
- consistent: the option nearest their level L (the lower on a tie);
- honest: their level plus independent noise, normal with SD σ, then the
  nearest option (never a neutral one);
- random: any option of each question, uniformly (neutral ones included).

`table` runs them and `failures` lists every property of sections 2 and 3
that the figures break; `flask --app wsgi questions simulate` prints both and
exits 1 on a failure. Seeded: the same bank and seed give the same figures.
"""
import random
from dataclasses import dataclass
from functools import lru_cache

from .bank import GRID, nearest
from .certainty import MIN_PROVISIONAL_WIDTH
from .check import stage_questions
from .scoring import rate

SIGMAS = (0.5, 0.75)
COVERAGE_FROM, COVERAGE_TO = 1.5, 6.5  # §2: the range holds L for ≥ 90 % of honest players
BIAS_FROM, BIAS_TO = 2.0, 6.0  # §3: |mean error| ≤ 0.15 at σ 0.75
MIN_COVERAGE = 0.90
MAX_BIAS = 0.15
MIN_RANDOM_FLAGGED = 0.90
MAX_HONEST_FLAGGED = {0.5: 0.01, 0.75: 0.05}
MIN_CONSISTENT_CONFIDENCE = 0.9


def consistent_player(questions, level):
    return {q.id: nearest(q.leveled, level) for q in questions}


def honest_player(questions, level, sigma, rng):
    return {q.id: nearest(q.leveled, level + rng.gauss(0.0, sigma)) for q in questions}


def random_player(questions, rng):
    return {q.id: rng.choice(q.options) for q in questions}


@dataclass(frozen=True)
class Row:
    """The figures of `players` honest players of level `level` answering with noise `sigma`."""

    stage: str
    level: float
    sigma: float
    mean_error: float
    exact: float
    within_half: float
    coverage: float
    mean_width: float
    flagged: float


def _row(bank, stage, level, sigma, players, rng):
    questions = stage_questions(bank, stage)
    rated = [rate(bank, honest_player(questions, level, sigma, rng)) for _ in range(players)]
    n = len(rated)
    return Row(
        stage, level, sigma,
        mean_error=sum(r.rounded - level for r in rated) / n,
        exact=sum(r.rounded == level for r in rated) / n,
        within_half=sum(abs(r.rounded - level) <= 0.5 for r in rated) / n,
        coverage=sum(r.sure.low <= level <= r.sure.high for r in rated) / n,
        mean_width=sum(r.sure.high - r.sure.low for r in rated) / n,
        flagged=sum(not r.sure.consistent for r in rated) / n,
    )


def table(bank, players=400, seed=0, stages=("basic", "full")):
    """(honest rows for every stage, L 1.0–7.0 and σ, the share of random players flagged per stage)."""
    rng = random.Random(seed)
    rows = [_row(bank, stage, level, sigma, players, rng) for stage in stages for sigma in SIGMAS for level in GRID]
    flagged = {}
    for stage in stages:
        questions = stage_questions(bank, stage)
        randoms = [rate(bank, random_player(questions, rng)) for _ in range(players)]
        flagged[stage] = sum(not r.sure.consistent for r in randoms) / players
    return rows, flagged


def _consistent_failures(bank, stage):
    found = []
    questions = stage_questions(bank, stage)
    for level in GRID:
        rated = rate(bank, consistent_player(questions, level))
        if rated.rounded != level:
            continue  # beyond the bank's reach: questions check reports calibration
        if not (rated.sure.low <= level <= rated.sure.high and rated.sure.high - rated.sure.low <= 0.5):
            found.append(f"{stage}: a consistent {level:.1f} player's range is {rated.sure.low:.1f}–{rated.sure.high:.1f}")
        if rated.sure.confidence < MIN_CONSISTENT_CONFIDENCE or not rated.sure.consistent:
            found.append(f"{stage}: a consistent {level:.1f} player gets confidence {rated.sure.confidence} "
                         f"and consistent {rated.sure.consistent}")
    return found


def _provisional_failures(bank):
    """Consistent basic players with one basic dimension left out: provisional, a range ≥ 1.5 wide."""
    found = []
    basic = stage_questions(bank, "basic")
    for dimension in sorted(bank.basic_keys):
        kept = [q for q in basic if q.dimension != dimension]
        for level in GRID:
            sure = rate(bank, consistent_player(kept, level)).sure
            if not sure.provisional or sure.high - sure.low < MIN_PROVISIONAL_WIDTH:
                found.append(f"without {dimension}, a {level:.1f} player is rated {sure.low:.1f}–{sure.high:.1f}, "
                             f"provisional {sure.provisional}")
    return found


def failures(bank, rows, flagged):
    """Every property of Version 3 §2 and §3 the figures (from `table`) or the consistent players break."""
    found = []
    for row in rows:
        where = f"{row.stage}, L {row.level:.1f}, σ {row.sigma}"
        if COVERAGE_FROM <= row.level <= COVERAGE_TO and row.coverage < MIN_COVERAGE:
            found.append(f"{where}: the range holds the level for {row.coverage:.0%} of honest players")
        if row.flagged > MAX_HONEST_FLAGGED[row.sigma]:
            found.append(f"{where}: {row.flagged:.1%} of honest players flagged inconsistent")
        if row.sigma == 0.75 and BIAS_FROM <= row.level <= BIAS_TO and abs(row.mean_error) > MAX_BIAS:
            found.append(f"{where}: mean error {row.mean_error:+.2f}")
    for stage, share in flagged.items():
        if share < MIN_RANDOM_FLAGGED:
            found.append(f"{stage}: only {share:.0%} of random players flagged inconsistent")
        found += _consistent_failures(bank, stage)
    weakest = rate(bank, {q.id: q.leveled[0] for q in stage_questions(bank, "basic")})
    if weakest.rounded != GRID[0] and any(q.leveled[0].level == GRID[0] for q in bank.questions.values()):
        found.append(f"the weakest answers everywhere are rated {weakest.rounded:.1f}, not 1.0")
    return found + _provisional_failures(bank)


@lru_cache(maxsize=4)
def measured(bank, players=300, seed=0):
    """(rows, random players flagged, failures) of `table` and `failures`, once per bank in a process: the
    console's question bank page shows them (about 2 s the first time)."""
    rows, flagged = table(bank, players, seed)
    return rows, flagged, failures(bank, rows, flagged)
