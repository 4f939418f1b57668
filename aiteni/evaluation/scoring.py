"""NTRP scoring: answers in, a Result out. Pure: no Flask, no database, no clock, no randomness.

The method is the origin engine's (docs/questions-spec.md, Scoring), with its
flaws fixed. For the answered questions q with chosen options o:

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
   has base R(L) and is mapped to exactly L. The origin had no such step: the
   grid's edges and the floors bent its scale (a consistent 1.5 was rated
   2.0). Only the questions answered count, so a basic stage, a full one and
   a resumed advanced stage are each calibrated.
4. Balance. A lopsided player is pulled down, by at most 1.0 level, by their
   weakest dimension: the shortfall is how far a dimension's score lies below
   the consistent player's at the calibrated level, and the pull is
   min(1.0, 0.4 × (shortfall − 0.5)) when positive. The origin pulled by the
   variance of the dimension scores, so a stronger answer in a strong
   dimension could lower the total; this pull grows slower than the level,
   so it never can, and a consistent player is never pulled (a 7.0 whose
   training question tops out at 6.0 is not short of anything). The origin's
   +0.25 bonus for balanced strong players is gone: it lifted a consistent
   4.5 to 5.0.
5. Caps. The total never exceeds the smallest cap of the chosen options;
   applied last, so no step can lift it past.
6. Rounding. total_level to 2 decimals; rounded_level to the nearest half
   level of total_level, an exact tie going to the whole number
   (2.25 → 2.0, 2.75 → 3.0).

Every step is non-decreasing in each answer's position in its option list
(options are ordered by level and by support mean, caps non-decreasing: the
bank's loader checks it), so a stronger option never lowers the total.

Dimension scores are the weight-averaged levels of each dimension's chosen
options; advantages and weaknesses are dimensions at least 0.3 above or below
their mean (at most 3, the most distinct first).
"""
import bisect
from functools import lru_cache

from .bank import GRID, HIGHEST, LOWEST, STEP, band_text

MAX_PULL = 1.0  # origin: MAX_BARREL_PENALTY
# The pull grows at 0.4 level per level of shortfall: the expected score rises at most 2 levels per level
# (options at most 1.0 apart), so a stronger answer raises the pull by at most 0.8 of what it adds.
PULL_RATE = 0.4
PULL_SLACK = 0.5  # a dimension half a level below what is expected is ordinary
DISTINCT = 0.3  # origin: advantages and weaknesses at ±0.3 from the dimensions' mean
MAX_LISTED = 3  # advantages, and weaknesses, of a Result
TAIL_MARGIN = 0.5  # origin: a comment's tail compares the score with the rounded level at ±0.5


def valid_answers(bank, answers):
    """The pairs of `answers` ({question id: option id}) that fit the bank, as {question id: Option}.

    Unknown questions, and options of another question or of none, are dropped
    (an old client may hold answers of an earlier bank).
    """
    chosen = {}
    for question_id, question in bank.questions.items():  # the bank's order: see in_bank_order
        option = bank.options.get(answers.get(question_id))
        if option is not None and option in question.options:
            chosen[question_id] = option
    return chosen


def in_bank_order(bank, chosen):
    """{question id: Option} in the bank's order, whatever the request's: sums of floats depend on order."""
    return {question_id: chosen[question_id] for question_id in bank.questions if question_id in chosen}


class _Curve:
    """What consistent players of a set of questions look like, for calibration and balance.

    `bases`/`levels`: the calibration knots, increasing. Levels whose consistent
    players answer alike share one base; the knot goes to the one nearest the
    level those answers describe (their weighted mean level), so a bank that
    starts at 1.5 rates its weakest answers 1.5, and one that ends at 5.5 rates
    its strongest 5.5. `expected[i]`: the consistent player's dimension scores
    at grid level i.
    """

    def __init__(self, bank, question_ids):
        questions = [bank.questions[q] for q in question_ids]
        total_weight = sum(q.weight for q in questions)
        groups = {}
        self.expected = []
        for i, level in enumerate(GRID):
            base = sum(q.weight * q.consistent[i].support_mean for q in questions) / total_weight
            described = sum(q.weight * q.consistent[i].level for q in questions) / total_weight
            groups.setdefault(base, (described, []))[1].append(level)
            self.expected.append(_weighted_levels(bank, {q.id: q.consistent[i] for q in questions}))
        self.bases = sorted(groups)
        self.levels = [min(groups[b][1], key=lambda level: (abs(level - groups[b][0]), level)) for b in self.bases]

    def calibrated(self, base):
        """The base mapped onto the knots, piecewise linearly."""
        bases, levels = self.bases, self.levels
        if len(bases) == 1:
            return levels[0]
        i = min(max(bisect.bisect_right(bases, base), 1), len(bases) - 1)
        low, high = bases[i - 1], bases[i]
        return levels[i - 1] + (levels[i] - levels[i - 1]) * (base - low) / (high - low)

    def shortfall(self, level, scores):
        """How far the weakest dimension lies below the consistent player's at `level` (≤ 0: none)."""
        position = (level - LOWEST) / STEP
        i = min(int(position), len(GRID) - 2)
        fraction = position - i
        low, high = self.expected[i], self.expected[i + 1]
        return max(low[key] + fraction * (high[key] - low[key]) - score for key, score in scores.items())


@lru_cache(maxsize=1024)
def _curve(bank, question_ids):
    return _Curve(bank, question_ids)


def round_half(total_level):
    """The nearest half level of a 2-decimal level; an exact tie goes to the whole number."""
    hundredths = round(total_level * 100)
    halves, rest = divmod(hundredths, 50)
    if rest > 25 or (rest == 25 and halves % 2 == 1):
        halves += 1
    return min(max(halves / 2, LOWEST), HIGHEST)


def _weighted_levels(bank, chosen):
    sums = {}
    for question_id, option in chosen.items():
        question = bank.questions[question_id]
        weighted, weight = sums.get(question.dimension, (0.0, 0.0))
        sums[question.dimension] = (weighted + question.weight * option.level, weight + question.weight)
    return {key: sums[key][0] / sums[key][1] for key in bank.dimensions if key in sums}


def dimension_scores(bank, chosen):
    """{dimension: weight-averaged level of its chosen options, 2 decimals}, in the bank's display order."""
    return {key: round(value, 2) for key, value in _weighted_levels(bank, chosen).items()}


def total_level(bank, chosen, scores):
    """The unrounded level of a non-empty set of chosen options (steps 1–5 of the module docstring)."""
    question_ids = tuple(sorted(chosen))
    weights = [bank.questions[q].weight for q in question_ids]
    base = sum(w * chosen[q].support_mean for w, q in zip(weights, question_ids)) / sum(weights)
    curve = _curve(bank, question_ids)
    level = curve.calibrated(base)
    pull = min(MAX_PULL, max(0.0, PULL_RATE * (curve.shortfall(level, scores) - PULL_SLACK)))
    caps = [option.cap for option in chosen.values() if option.cap is not None]
    return min([level - pull, *caps])


def levels(bank, chosen):
    """(dimension scores, total_level to 2 decimals) of a non-empty {question id: Option}."""
    scores = dimension_scores(bank, chosen)
    return scores, round(total_level(bank, chosen, scores), 2)


def _distinct(scores):
    """(advantages, weaknesses): the most distinct dimensions first, the display order on a tie."""
    mean = sum(scores.values()) / len(scores)
    order = list(scores)
    above = [k for k in order if scores[k] - mean >= DISTINCT - 1e-9]
    below = [k for k in order if mean - scores[k] >= DISTINCT - 1e-9]
    above.sort(key=lambda k: -scores[k])
    below.sort(key=lambda k: scores[k])
    return above[:MAX_LISTED], below[:MAX_LISTED]


def _comments(bank, scores, rounded):
    comments = {}
    for key, score in scores.items():
        gap = score - rounded
        tail = "above" if gap >= TAIL_MARGIN else "below" if gap <= -TAIL_MARGIN else "even"
        comments[key] = band_text(bank.dimensions[key].comments, score) + bank.tails[tail]
    return comments


def _summary(bank, rounded, label, advantages, weaknesses):
    def names(keys):
        return bank.separator.join(bank.dimensions[k].name for k in keys)

    sentences = [bank.summary["level"].format(level=f"{rounded:.1f}", label=label)]
    if advantages:
        sentences.append(bank.summary["advantages"].format(names=names(advantages)))
    if weaknesses:
        sentences.append(bank.summary["weaknesses"].format(names=names(weaknesses)))
        sentences.append(bank.summary["advice"].format())
    sentences.append(band_text(bank.encouragement, rounded))
    return "".join(sentences)


def score(bank, chosen):
    """The Result fields of a non-empty {question id: Option} (from `valid_answers`).

    Returns a dict in the order the client shows: total_level (2 decimals),
    rounded_level (a multiple of 0.5 in 1.0–7.0), level_label,
    dimension_scores and dimension_comments (display order), advantages,
    weaknesses, summary_text.
    """
    scores, total = levels(bank, chosen)
    rounded = round_half(total)
    label = bank.labels[rounded]
    advantages, weaknesses = _distinct(scores)
    return {
        "total_level": total,
        "rounded_level": rounded,
        "level_label": label,
        "dimension_scores": scores,
        "dimension_comments": _comments(bank, scores, rounded),
        "advantages": advantages,
        "weaknesses": weaknesses,
        "summary_text": _summary(bank, rounded, label, advantages, weaknesses),
    }


def need_advanced(bank, total):
    """Whether a basic result invites the advanced stage (docs/questions-spec.md, Scoring 7)."""
    return total >= bank.advanced_threshold and bool(bank.tier("advanced"))
