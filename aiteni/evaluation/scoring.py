"""NTRP scoring: answers in, a Result out. Pure: no Flask, no database, no clock, no randomness.

The method is the origin engine's (docs/questions-spec.md, Scoring), with its
flaws fixed. For the answered questions q with chosen options o (a `neutral`
option counts as answered and carries no level: it takes no part below):

1. Support. Each answer spreads weight w_q of support over the level grid
   1.0–7.0 (13 levels): a Gaussian around the option's level, σ 1.0 (a
   `locator` option σ 0.5; a `floor` option none below its level), each
   kernel normalised to unit mass on the grid (`bank.kernel_mean`). The
   origin also weighed a locator answer 1.2 times: the weight then changed
   with the option chosen, and a stronger option could lower the total, so
   a question's weight is its own whatever the answer.
2. Base level: the support-weighted mean of the grid, Σ w_q·mean(o) / Σ w_q.
3. Calibration. The base is mapped, piecewise linearly, through the bases of
   the consistent players of the same questions: the player who picks, in
   each answered question, the option nearest level L (the lower on a tie)
   has base R(L) and is mapped to exactly L. Only the questions answered
   count, so a basic stage, a full one and a resumed advanced stage are each
   calibrated. This is the answers' level.
4. Balance. A lopsided player is pulled down, by at most 1.0 level, by their
   weakest skill dimension. A dimension's shortfall is how far its score lies
   below the consistent player's at the answers' level; it pulls with the
   share of question weight behind it (its weight over the heaviest skill
   dimension's), and the pull is min(1.0, 0.4 × (weighted shortfall − 1.0))
   when positive. Only `skill` dimensions pull: a result or a background
   (match_result, training) informs the level through step 2 and never drags
   it toward itself (version 3 §3). The slack of 1.0 level is what honest
   answers scatter by (σ 0.75 over a dozen questions leaves the weakest of
   eight skill dimensions about 1.0 below the rest), so an honest player is
   not pulled by noise; `questions simulate` measures the bias it leaves.
   The pull grows at most 0.8 as fast as the level, so a stronger answer
   never lowers the total.
5. Caps and floors. The total is raised to the largest `floor_total` of the
   chosen options and then bounded by the smallest cap (a cap below a floor:
   the cap holds, and certainty.py calls a wide crossing inconsistent).
   Applied last, so no step can move the total past them.
6. Rounding. total_level to 2 decimals; rounded_level to the nearest half
   level of total_level, an exact tie going to the whole number
   (2.25 → 2.0, 2.75 → 3.0).

Every step is non-decreasing in each answer's position among its question's
options with a level (ordered by level and by support mean, caps and floors
non-decreasing: the loader checks it), so a stronger option never lowers the
total.

How sure the level is (the range, confidence, consistency) is certainty.py's;
what the Result says about each dimension, texts.py's.
"""
import bisect
from dataclasses import dataclass
from functools import lru_cache

from .bank import GRID, HIGHEST, LOWEST, STEP
from . import certainty, texts

MAX_PULL = 1.0  # origin: MAX_BARREL_PENALTY
# The pull grows at 0.4 level per level of shortfall: the expected score rises at most 2 levels per level
# (options at most 1.0 apart), so a stronger answer raises the pull by at most 0.8 of what it adds.
PULL_RATE = 0.4
# A skill dimension a level below what is expected is within what honest answers scatter by (step 4).
PULL_SLACK = 1.0


def valid_answers(bank, answers):
    """The pairs of `answers` ({question id: option id}) that fit the bank, as {question id: Option}.

    Unknown questions, and options of another question or of none, are dropped
    (an old client may hold answers of an earlier bank). The bank's order.
    """
    chosen = {}
    for question_id, question in bank.questions.items():
        option = bank.options.get(answers.get(question_id))
        if option is not None and option in question.options:
            chosen[question_id] = option
    return chosen


def in_bank_order(bank, chosen):
    """{question id: Option} in the bank's order, whatever the request's: sums of floats depend on order."""
    return {question_id: chosen[question_id] for question_id in bank.questions if question_id in chosen}


def _interpolated(values, level):
    """values[i] belongs to GRID[i]: the value at `level`, linearly between grid points."""
    position = (min(max(level, LOWEST), HIGHEST) - LOWEST) / STEP
    i = min(int(position), len(GRID) - 2)
    fraction = position - i
    return values[i] + fraction * (values[i + 1] - values[i])


class Curve:
    """What consistent players of a set of questions look like: for calibration, balance and the texts.

    `bases`/`levels`: the calibration knots, increasing. Levels whose consistent
    players answer alike share one base; the knot goes to the one nearest the
    level those answers describe (their weighted mean level), so a bank that
    starts at 1.5 rates its weakest answers 1.5, and one that ends at 5.5 rates
    its strongest 5.5. `expected[key][i]`: the consistent player's score in
    dimension `key` at grid level i.
    """

    def __init__(self, bank, question_ids):
        questions = [bank.questions[q] for q in question_ids]
        total_weight = sum(q.weight for q in questions)
        groups = {}
        for i, level in enumerate(GRID):
            base = sum(q.weight * q.consistent[i].support_mean for q in questions) / total_weight
            described = sum(q.weight * q.consistent[i].level for q in questions) / total_weight
            groups.setdefault(base, (described, []))[1].append(level)
        self.bases = sorted(groups)
        self.levels = [min(groups[b][1], key=lambda level: (abs(level - groups[b][0]), level)) for b in self.bases]
        by_level = [weighted_levels(bank, {q.id: q.consistent[i] for q in questions}) for i in range(len(GRID))]
        self.expected = {key: [scores[key] for scores in by_level] for key in by_level[0]}
        # Each dimension's weight, and its scores at the weakest and strongest answers (its floor and ceiling).
        self.weights = {}
        for q in questions:
            self.weights[q.dimension] = self.weights.get(q.dimension, 0.0) + q.weight
        self.ceiling = weighted_levels(bank, {q.id: q.leveled[-1] for q in questions})
        self.bottom = weighted_levels(bank, {q.id: q.leveled[0] for q in questions})

    def calibrated(self, base):
        """The base mapped onto the knots, piecewise linearly."""
        bases, levels = self.bases, self.levels
        if len(bases) == 1:
            return levels[0]
        i = min(max(bisect.bisect_right(bases, base), 1), len(bases) - 1)
        low, high = bases[i - 1], bases[i]
        return levels[i - 1] + (levels[i] - levels[i - 1]) * (base - low) / (high - low)

    def expected_score(self, key, level):
        """The consistent player's score in dimension `key` at `level`."""
        return _interpolated(self.expected[key], level)


@lru_cache(maxsize=1024)
def curve(bank, question_ids):
    """The Curve of a sorted tuple of question ids (of options with a level), cached per bank."""
    return Curve(bank, question_ids)


def round_half(total_level):
    """The nearest half level of a 2-decimal level; an exact tie goes to the whole number."""
    hundredths = round(total_level * 100)
    halves, rest = divmod(hundredths, 50)
    if rest > 25 or (rest == 25 and halves % 2 == 1):
        halves += 1
    return min(max(halves / 2, LOWEST), HIGHEST)


def weighted_levels(bank, leveled):
    """{dimension: weight-averaged level of its options} of {question id: Option with a level}, display order."""
    sums = {}
    for question_id, option in leveled.items():
        question = bank.questions[question_id]
        weighted, weight = sums.get(question.dimension, (0.0, 0.0))
        sums[question.dimension] = (weighted + question.weight * option.level, weight + question.weight)
    return {key: sums[key][0] / sums[key][1] for key in bank.dimensions if key in sums}


@dataclass(frozen=True)
class Levels:
    """The levels of an answer set: `scores` per dimension and `total` unrounded; `answers_level` is step 3's."""

    leveled: dict
    scores: dict
    answers_level: float
    total: float
    curve: Curve


def _pull(bank, shape, level, scores):
    """Step 4: how far the weakest skill dimension drags the level down (0 to MAX_PULL)."""
    skills = [key for key in scores if bank.dimensions[key].kind == "skill"]
    if not skills:
        return 0.0
    heaviest = max(shape.weights[key] for key in skills)
    shortfall = max((shape.expected_score(key, level) - scores[key]) * shape.weights[key] / heaviest for key in skills)
    return min(MAX_PULL, max(0.0, PULL_RATE * (shortfall - PULL_SLACK)))


def levels(bank, chosen):
    """The Levels of {question id: Option} with at least one option that has a level; None when none has."""
    # The bank's order, whatever the caller's: every sum below (scores, the posterior) adds floats in it.
    leveled = {q: o for q, o in in_bank_order(bank, chosen).items() if not o.neutral}
    if not leveled:
        return None
    question_ids = tuple(sorted(leveled))
    weights = [bank.questions[q].weight for q in question_ids]
    base = sum(w * leveled[q].support_mean for w, q in zip(weights, question_ids)) / sum(weights)
    shape = curve(bank, question_ids)
    answers_level = shape.calibrated(base)
    scores = weighted_levels(bank, leveled)
    total = answers_level - _pull(bank, shape, answers_level, scores)
    floors = [o.floor_total for o in leveled.values() if o.floor_total is not None]
    caps = [o.cap for o in leveled.values() if o.cap is not None]
    total = min([max([total, *floors]), *caps])
    return Levels(leveled, scores, answers_level, total, shape)


@dataclass(frozen=True)
class Rated:
    """The Levels of an answer set, total_level (2 decimals), rounded_level, and how sure (certainty.Certainty)."""

    found: Levels
    total: float
    rounded: float
    sure: certainty.Certainty


def rate(bank, chosen):
    """The Rated of {question id: Option}, without the texts (questions simulate rates thousands); None when no
    answer has a level."""
    found = levels(bank, chosen)
    if found is None:
        return None
    total = round(found.total, 2)
    rounded = round_half(total)
    return Rated(found, total, rounded, certainty.assess(bank, found, chosen, rounded))


def score(bank, chosen):
    """The Result fields of {question id: Option} (from `valid_answers`); None when no answer has a level.

    Returns a dict in the contract's order (API.md, the Result object):
    total_level (2 decimals), rounded_level (a multiple of 0.5 in 1.0–7.0),
    level_label, level_range [low, high], confidence (0–1, 2 decimals),
    provisional, consistent, dimension_scores and dimension_comments (display
    order, 2 decimals), advantages, weaknesses, summary_text.
    """
    rated = rate(bank, chosen)
    if rated is None:
        return None
    found, total, rounded, sure = rated.found, rated.total, rated.rounded, rated.sure
    classes = texts.classify(bank, found, total)
    return {
        "total_level": total,
        "rounded_level": rounded,
        "level_label": bank.labels[rounded],
        "level_range": [sure.low, sure.high],
        "confidence": sure.confidence,
        "provisional": sure.provisional,
        "consistent": sure.consistent,
        "dimension_scores": {key: round(value, 2) for key, value in found.scores.items()},
        **texts.written(bank, found, classes, rounded, sure),
    }


def need_advanced(bank, level_range):
    """Whether a basic result invites the advanced stage: its range reaches the threshold (Version 3 §2)."""
    return level_range[1] >= bank.advanced_threshold and bool(bank.tier("advanced"))
