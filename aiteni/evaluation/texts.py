"""What a Result says about the player: one classification per dimension, and every sentence read from it.

Pure, like scoring.py (docs/questions-spec.md, Version 3 §1). Each answered
dimension with a level is classified once, as a strength, on par or a
weakness, against one reference: the score a consistent player of the
player's total level has in it (scoring.Curve.expected_score), so a
dimension is judged against the player's level, not against the other
dimensions' mean. `advantages`, `weaknesses`, each comment's tail and the
summary all read that classification; nothing else compares scores.

- A dimension at its answered questions' ceiling (every option the strongest)
  is never a weakness, and one at their bottom never a strength: a 7.0 player
  is not faulted for a serve question whose top option is 6.5.
- The tail of a comment is the bank's sentence for the dimension's kind
  (skill, result, background) and class: "build your points around it" is for
  a stroke, not for match results or training.
- The lists hold skill and result dimensions (at most 3 each, the most
  distinct first, display order on a tie): a short training history is not a
  weakness to train, and a long one no advantage on court.
"""
from ..schemas.fields import MAX_LISTED  # advantages, and weaknesses, of a Result
from .bank import band_text

# A dimension this far above or below the reference stands out (origin: ±0.3 against the scores' mean,
# ±0.5 against the rounded level in the tails; one margin now, for both).
MARGIN = 0.5
LISTED_KINDS = ("skill", "result")
_EPSILON = 1e-9


def classify(bank, found, total):
    """{dimension: (class, gap)} for the dimensions of scoring.Levels `found`, at total level `total`."""
    classes = {}
    for key, score in found.scores.items():
        gap = score - found.curve.expected_score(key, total)
        if gap >= MARGIN - _EPSILON and score > found.curve.bottom[key] + _EPSILON:
            classes[key] = ("strength", gap)
        elif gap <= -MARGIN + _EPSILON and score < found.curve.ceiling[key] - _EPSILON:
            classes[key] = ("weakness", gap)
        else:
            classes[key] = ("par", gap)
    return classes


def _listed(bank, classes, wanted, strongest_first):
    keys = [k for k, (c, _) in classes.items() if c == wanted and bank.dimensions[k].kind in LISTED_KINDS]
    keys.sort(key=lambda k: -classes[k][1] if strongest_first else classes[k][1])
    return keys[:MAX_LISTED]


def _summary(bank, rounded, sure, advantages, weaknesses):
    def names(keys):
        return bank.separator.join(bank.dimensions[k].name for k in keys)

    sentences = bank.summary
    said = [sentences["level"].format(level=f"{rounded:.1f}", label=bank.labels[rounded])]
    if sure.high > sure.low:
        said.append(sentences["range"].format(low=f"{sure.low:.1f}", high=f"{sure.high:.1f}"))
    if sure.provisional:
        said.append(sentences["provisional"])
    if not sure.consistent:
        said.append(sentences["inconsistent"])
    if advantages:
        said.append(sentences["advantages"].format(names=names(advantages)))
    if weaknesses:
        said.append(sentences["weaknesses"].format(names=names(weaknesses)))
        said.append(sentences["advice"])
    said.append(band_text(bank.encouragement, rounded))
    return "".join(said)


def written(bank, found, classes, rounded, sure):
    """dimension_comments, advantages, weaknesses and summary_text, all from `classes` (classify)."""
    comments = {
        key: band_text(bank.dimensions[key].comments, round(score, 2))
        + bank.tails[bank.dimensions[key].kind][classes[key][0]]
        for key, score in found.scores.items()
    }
    advantages = _listed(bank, classes, "strength", True)
    weaknesses = _listed(bank, classes, "weakness", False)
    return {
        "dimension_comments": comments,
        "advantages": advantages,
        "weaknesses": weaknesses,
        "summary_text": _summary(bank, rounded, sure, advantages, weaknesses),
    }
