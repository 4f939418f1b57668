"""How sure a level is: the range, the confidence, and whether the answers are provisional or consistent.

Pure, like scoring.py (docs/questions-spec.md, Version 3 §2). The model is
the honest player the spec simulates: a player of level L answers each
question with the option nearest L plus normal noise of SD σ. Every option
carries log P(option | L, σ) for each grid level L and each σ of bank.NOISE
(computed when the bank is loaded), so for the answers given:

- The posterior over the 13 grid levels (a flat prior, σ averaged over
  NOISE with equal weight) says where the player's level lies. Each answer
  counts once whatever its question's weight: it is one observation. An
  answer at a question's weakest or strongest option says "this or beyond",
  so the ends of the scale and the ends of a question's options need no
  special case.
- Caps and floors are rules the total obeys, not evidence: the range and
  the confidence describe what the answers say, so a capped total outside
  the answers' own range widens the range to reach it, with the confidence
  that it deserves.
- `level_range`: rounded_level, then the neighbouring half level with the
  larger posterior, until the range holds COVERAGE of it; at least
  MIN_PROVISIONAL_WIDTH wide (clipped at the scale's ends) when a dimension
  of the basic stage went unanswered.
- `confidence`: the posterior of rounded_level itself, 2 decimals.
- `consistent`: false when uniformly random answering explains the answers
  better than honest players do (log P(answers | honest) − log P(answers |
  random) below RANDOM_ODDS, the threshold that flags about 93 % of random
  basic stages and 2.5 % of honest σ 0.75 ones, measured on bank 3.0.0);
  when the answers put next to none of their posterior where the chosen caps
  and floors allow (a "never rallied" among 4.0 answers); or when a chosen
  floor lies more than CROSSING above a chosen cap.

Neutral answers carry no level and take no part; they still count as
answered for `provisional`. `questions simulate` measures coverage and the
shares flagged.
"""
import math
from dataclasses import dataclass

from ..schemas.fields import COVERAGE
from .bank import GRID, LOWEST, NOISE, STEP

MIN_PROVISIONAL_WIDTH = 1.5
# log(P(answers | honest) / P(answers | random)) below this: the answers are called inconsistent.
RANDOM_ODDS = -1.5
# The answers put less than e^BOUNDED_LOG_SHARE of their posterior where the chosen caps and floors allow:
# inconsistent ("never rallied" among 4.0 answers puts e^-18 there; honest σ 0.75 players rarely below e^-9).
BOUNDED_LOG_SHARE = -12.0
# A floor this far above a cap contradicts it; less is the imprecision of honest answers.
CROSSING = 1.0


@dataclass(frozen=True)
class Certainty:
    low: float
    high: float
    confidence: float
    provisional: bool
    consistent: bool


def _log_sum(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _log_masses(leveled):
    """log P(answers | level L) for each L of GRID, the noise levels averaged: the unnormalised log posterior."""
    joint = [[sum(column) for column in zip(*(o.log_likelihood[j] for o in leveled.values()))]
             for j in range(len(NOISE))]
    return [_log_sum([row[i] for row in joint]) - math.log(len(NOISE)) for i in range(len(GRID))]


def _index(level):
    """The position of a half level in GRID."""
    return round((level - LOWEST) / STEP)


def _bounds(caps, floors):
    """(lowest, highest) grid index a player may be rated at: the largest floor, the smallest cap; a cap
    below a floor holds (scoring.py step 5)."""
    top = min(caps, default=GRID[-1])
    return _index(min(max(floors, default=GRID[0]), top)), _index(top)


def _range(posterior, rounded):
    """The half levels around `rounded` holding COVERAGE of the posterior: the likelier neighbour first."""
    low = high = _index(rounded)
    held = posterior[low]
    last = len(GRID) - 1
    while held < COVERAGE - 1e-9 and (low > 0 or high < last):
        below = posterior[low - 1] if low > 0 else -1.0
        above = posterior[high + 1] if high < last else -1.0
        if below >= above:
            low -= 1
            held += below
        else:
            high += 1
            held += above
    return low, high


def _widened(low, high, steps):
    """Grid indices [low, high] widened a step at a time, below first, until `steps` apart or the whole grid."""
    last = len(GRID) - 1
    while high - low < steps and (low > 0 or high < last):
        if low > 0:
            low -= 1
        if high - low < steps and high < last:
            high += 1
    return low, high


def assess(bank, found, chosen, rounded):
    """The Certainty of scoring.Levels `found` for the answers `chosen` ({question id: Option})."""
    leveled = found.leveled
    caps = [o.cap for o in leveled.values() if o.cap is not None]
    floors = [o.floor_total for o in leveled.values() if o.floor_total is not None]
    masses = _log_masses(leveled)
    everywhere = _log_sum(masses)
    first, last = _bounds(caps, floors)
    allowed = _log_sum(masses[first:last + 1])
    posterior = [math.exp(m - everywhere) for m in masses]
    evidence = everywhere - math.log(len(GRID))
    random_evidence = -sum(math.log(len(bank.questions[q].leveled)) for q in leveled)
    consistent = (
        evidence - random_evidence >= RANDOM_ODDS
        # The answers put next to no weight where a cap or floor allows: one of them contradicts the rest.
        and allowed - everywhere >= BOUNDED_LOG_SHARE
        and not (caps and floors and max(floors) - min(caps) > CROSSING)
    )
    provisional = not bank.basic_keys <= {bank.questions[q].dimension for q in chosen}
    low, high = _range(posterior, rounded)
    if provisional:
        low, high = _widened(low, high, round(MIN_PROVISIONAL_WIDTH / STEP))
    return Certainty(GRID[low], GRID[high], round(posterior[_index(rounded)], 2), provisional, consistent)
