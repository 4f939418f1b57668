"""Whether a bank scores as the questionnaire spec (docs/questions-spec.md) requires: calibrated, monotone,
caps and floors that hold.

The server runs `problems` at start (a small random search); `flask questions
check` adds the probes and a larger search, and prints the calibration table.
"""
import random

from .bank import GRID
from .scoring import levels, round_half

# Calibration is required from 1.5 to 5.5, and beyond where the answered questions' options reach.
REQUIRED_FROM, REQUIRED_TO = 1.5, 5.5
STAGES = ("basic", "full")
# A search stops once it has this many flaws to show.
ENOUGH = 5


def stage_questions(bank, stage):
    """The questions a player answers in a stage: basic alone, or basic and advanced."""
    return [q for q in bank.questions.values() if stage == "full" or q.tier == "basic"]


def level_of(bank, chosen):
    """total_level of {question id: Option} (at least one with a level), 2 decimals."""
    return round(levels(bank, chosen).total, 2)


def calibration_table(bank, stage):
    """[(L, total_level, rounded_level, required)] of the consistent player at each grid level L."""
    questions = stage_questions(bank, stage)
    bottom = min(q.leveled[0].level for q in questions)
    top = max(q.leveled[-1].level for q in questions)
    rows = []
    for i, level in enumerate(GRID):
        total = level_of(bank, {q.id: q.consistent[i] for q in questions})
        required = min(REQUIRED_FROM, bottom) <= level <= max(REQUIRED_TO, top)
        rows.append((level, total, round_half(total), required))
    return rows


def reachable(bank, stage):
    """(lowest, highest) rounded level of a stage: every weakest answer, every strongest one."""
    questions = stage_questions(bank, stage)
    weakest = level_of(bank, {q.id: q.leveled[0] for q in questions})
    strongest = level_of(bank, {q.id: q.leveled[-1] for q in questions})
    return round_half(weakest), round_half(strongest)


def _answers(chosen):
    return ",".join(option.id for option in chosen.values())


def _step_flaws(bank, chosen):
    """Each answer of `chosen` moved one option stronger must not lower the total; caps and floors must hold."""
    if all(option.neutral for option in chosen.values()):
        return []
    total = level_of(bank, chosen)
    caps = [o.cap for o in chosen.values() if o.cap is not None]
    floors = [o.floor_total for o in chosen.values() if o.floor_total is not None]
    found = []
    if caps and total > min(caps):
        found.append(f"a cap does not hold: {_answers(chosen)} scores {total} above cap {min(caps)}")
    if floors and total < max(floors) and not (caps and min(caps) < max(floors)):
        found.append(f"a floor does not hold: {_answers(chosen)} scores {total} below floor {max(floors)}")
    for question_id, option in chosen.items():
        leveled = bank.questions[question_id].leveled
        if option.neutral:
            continue
        position = leveled.index(option)
        if position + 1 < len(leveled) and level_of(bank, {**chosen, question_id: leveled[position + 1]}) < total:
            found.append(f"not monotone: {leveled[position + 1].id} instead of {option.id} "
                         f"lowers {_answers(chosen)} from {total}")
    return found


def search_flaws(bank, samples, seed=0):
    """Monotonicity, caps and floors over `samples` random answer sets (any non-empty subset), seeded."""
    rng = random.Random(seed)
    questions = list(bank.questions.values())
    found = []
    for _ in range(samples):
        answered = rng.sample(questions, rng.randint(1, len(questions)))
        found += _step_flaws(bank, {q.id: rng.choice(q.options) for q in answered})
        if len(found) >= ENOUGH:
            break
    return found


def probe_flaws(bank):
    """Monotonicity, caps and floors where random sets rarely land: near a consistent, the weakest or the
    strongest player.

    Each stage's backgrounds (every consistent player, all weakest, all
    strongest) with one answer set to each of its options in turn.
    """
    found = []
    for stage in STAGES:
        questions = stage_questions(bank, stage)
        backgrounds = [{q.id: q.consistent[i] for q in questions} for i in range(len(GRID))]
        backgrounds += [{q.id: q.leveled[0] for q in questions}, {q.id: q.leveled[-1] for q in questions}]
        unique = {tuple(o.id for o in background.values()): background for background in backgrounds}
        for background in unique.values():
            for question in questions:
                for option in question.options:
                    found += _step_flaws(bank, {**background, question.id: option})
                    if len(found) >= ENOUGH:
                        return found
    return found


def problems(bank, samples, probes=False):
    """Every scoring flaw found: calibration rows off, then what the probes and the search found."""
    found = []
    for stage in STAGES:
        for level, total, rounded, required in calibration_table(bank, stage):
            if required and rounded != level:
                found.append(
                    f"not calibrated: a consistent {level:.1f} player ({stage}) is rated {rounded:.1f} (total {total})"
                )
    if probes:
        found += probe_flaws(bank)
    return found + search_flaws(bank, samples)
