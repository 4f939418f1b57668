"""Whether a bank scores as the questionnaire spec (docs/questions-spec.md) requires: calibrated, monotone, caps that hold.

The server runs `problems` at start (a small search); `flask questions check`
runs it with a larger one and prints the calibration table.
"""
import random

from .bank import GRID
from .scoring import dimension_scores, round_half, total_level

# Calibration is required from 1.5 to 5.5, and above where the answered questions' options reach.
REQUIRED_FROM, REQUIRED_TO = 1.5, 5.5
STAGES = ("basic", "full")


def stage_questions(bank, stage):
    """The questions a player answers in a stage: basic alone, or basic and advanced."""
    return [q for q in bank.questions.values() if stage == "full" or q.tier == "basic"]


def level_of(bank, chosen):
    """total_level of {question id: Option}, 2 decimals."""
    return round(total_level(bank, chosen, dimension_scores(bank, chosen)), 2)


def calibration_table(bank, stage):
    """[(L, total_level, rounded_level, required)] of the consistent player at each grid level L."""
    questions = stage_questions(bank, stage)
    top = max(option.level for q in questions for option in q.options)
    rows = []
    for i, level in enumerate(GRID):
        total = level_of(bank, {q.id: q.consistent[i] for q in questions})
        required = REQUIRED_FROM <= level <= max(REQUIRED_TO, top)
        rows.append((level, total, round_half(total), required))
    return rows


def reachable(bank, stage):
    """(lowest, highest) rounded level of a stage: every weakest answer, every strongest one."""
    questions = stage_questions(bank, stage)
    weakest = level_of(bank, {q.id: q.options[0] for q in questions})
    strongest = level_of(bank, {q.id: q.options[-1] for q in questions})
    return round_half(weakest), round_half(strongest)


def search_flaws(bank, samples, seed=0):
    """Monotonicity and caps over `samples` random answer sets (any non-empty subset), seeded.

    For each set, every answer is moved one option stronger: the total must
    not drop, and no total may exceed a chosen option's cap.
    """
    rng = random.Random(seed)
    questions = list(bank.questions.values())
    found = []
    for _ in range(samples):
        answered = rng.sample(questions, rng.randint(1, len(questions)))
        chosen = {q.id: rng.choice(q.options) for q in answered}
        total = level_of(bank, chosen)
        caps = [o.cap for o in chosen.values() if o.cap is not None]
        if caps and total > min(caps):
            found.append(f"a cap does not hold: {_answers(chosen)} scores {total} above cap {min(caps)}")
        for question in answered:
            position = question.options.index(chosen[question.id])
            if position + 1 < len(question.options):
                stronger = {**chosen, question.id: question.options[position + 1]}
                if level_of(bank, stronger) < total:
                    found.append(
                        f"not monotone: {question.options[position + 1].id} instead of "
                        f"{chosen[question.id].id} lowers {_answers(chosen)} from {total}"
                    )
        if len(found) >= 5:
            break
    return found


def _answers(chosen):
    return ",".join(option.id for option in chosen.values())


def problems(bank, samples):
    """Every scoring flaw found: calibration rows off, then what the search found."""
    found = []
    for stage in STAGES:
        for level, total, rounded, required in calibration_table(bank, stage):
            if required and rounded != level:
                found.append(
                    f"not calibrated: a consistent {level:.1f} player ({stage}) is rated {rounded:.1f} (total {total})"
                )
    return found + search_flaws(bank, samples)
