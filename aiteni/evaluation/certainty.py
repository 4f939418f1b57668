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
- `level_range`: rounded_level, then the neighbouring half level with the
  larger posterior, until the range holds COVERAGE of it; at least
  MIN_PROVISIONAL_WIDTH wide (clipped at the scale's ends) when a dimension
  of the basic stage went unanswered.
- `confidence`: the posterior of rounded_level itself, 2 decimals.
- `consistent`: false when uniformly random answering explains the answers
  better than honest players do: log P(answers | honest) − log P(answers |
  random) below RANDOM_ODDS, the threshold that flags about 93 % of random
  basic stages and 2.5 % of honest σ 0.75 ones (measured on bank 3.0.0).

Neutral answers carry no level and take no part; they still count as
answered for `provisional`. `questions simulate` measures coverage and the
shares flagged.
"""
import math
from dataclasses import dataclass

from .bank import GRID, LOWEST, NOISE, STEP

COVERAGE = 0.9
MIN_PROVISIONAL_WIDTH = 1.5
# log(P(answers | honest) / P(answers | random)) below this: the answers are called inconsistent.
RANDOM_ODDS = -1.5


@dataclass(frozen=True)
class Certainty:
    low: float
    high: float
    confidence: float
    provisional: bool
    consistent: bool


def _posterior(leveled):
    """(the posterior over GRID, log P(answers | honest)) of {question id: Option with a level}."""
    joint = []
    for j in range(len(NOISE)):
        columns = zip(*(option.log_likelihood[j] for option in leveled.values()))
        joint.append([sum(column) for column in columns])
    top = max(max(row) for row in joint)
    masses = [sum(math.exp(row[i] - top) for row in joint) for i in range(len(GRID))]
    total = sum(masses)
    evidence = top + math.log(total / (len(NOISE) * len(GRID)))
    return [mass / total for mass in masses], evidence


def _range(posterior, rounded):
    """The half levels around `rounded` holding COVERAGE of the posterior: the likelier neighbour first."""
    low = high = round((rounded - LOWEST) / STEP)
    held = posterior[low]
    while held < COVERAGE - 1e-9 and (low > 0 or high < len(GRID) - 1):
        below = posterior[low - 1] if low > 0 else -1.0
        above = posterior[high + 1] if high < len(GRID) - 1 else -1.0
        if below >= above:
            low -= 1
            held += below
        else:
            high += 1
            held += above
    return low, high


def _widened(low, high, steps):
    """Grid indices [low, high] widened a step at a time, below first, until `steps` apart or the whole grid."""
    while high - low < steps and (low > 0 or high < len(GRID) - 1):
        if low > 0:
            low -= 1
        if high - low < steps and high < len(GRID) - 1:
            high += 1
    return low, high


def assess(bank, found, chosen, rounded):
    """The Certainty of scoring.Levels `found` for the answers `chosen` ({question id: Option})."""
    leveled = found.leveled
    posterior, evidence = _posterior(leveled)
    random_evidence = -sum(math.log(len(bank.questions[q].leveled)) for q in leveled)
    consistent = evidence - random_evidence >= RANDOM_ODDS
    provisional = not bank.basic_dimensions() <= {bank.questions[q].dimension for q in chosen}
    low, high = _range(posterior, rounded)
    if provisional:
        low, high = _widened(low, high, round(MIN_PROVISIONAL_WIDTH / STEP))
    return Certainty(GRID[low], GRID[high], round(posterior[round((rounded - LOWEST) / STEP)], 2),
                     provisional, consistent)

