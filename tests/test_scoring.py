"""The scoring, pure: calibrated, monotone, capped, deterministic, forgiving of stale answers.

Property-based (hypothesis) over the shipped bank: any non-empty subset of
questions, any options.
"""
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiteni.evaluation import bank as bank_file
from aiteni.evaluation import check, scoring

BANK = bank_file.load()
QUESTIONS = list(BANK.questions.values())
STAGES = {
    "basic": [q for q in QUESTIONS if q.tier == "basic"],
    "full": QUESTIONS,
}


def consistent(questions, level):
    """The player of `level`: in every question the option nearest it, the lower on a tie (QUESTIONS.md)."""
    return {q.id: min(q.options, key=lambda o: (abs(o.level - level), o.level)) for q in questions}


def result(chosen):
    return scoring.score(BANK, chosen)


@st.composite
def answer_sets(draw, min_size=1):
    """A non-empty subset of the bank's questions, each with any of its options: {question id: Option}."""
    questions = draw(st.lists(st.sampled_from(QUESTIONS), min_size=min_size, unique_by=lambda q: q.id))
    return {q.id: draw(st.sampled_from(q.options)) for q in questions}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("level", [1.5 + 0.5 * i for i in range(9)])
def test_a_consistent_player_gets_their_level(stage, level):
    assert result(consistent(STAGES[stage], level))["rounded_level"] == level


@pytest.mark.parametrize("stage", STAGES)
def test_the_top_of_the_scale_is_calibrated_where_the_bank_reaches(stage):
    top = max(o.level for q in STAGES[stage] for o in q.options)
    for level in (6.0, 6.5, 7.0):
        if level <= top:
            assert result(consistent(STAGES[stage], level))["rounded_level"] == level


def test_the_bank_reaches_the_whole_scale():
    """6.5 has a label and a player can reach it; so can 1.5 (the origin stopped at 5.5, and started at 2.0)."""
    low, high = check.reachable(BANK, "full")
    assert low <= 1.5 and high >= 6.5
    assert 6.5 in BANK.labels


@settings(max_examples=300, deadline=None)
@given(answer_sets(), st.data())
def test_a_stronger_option_never_lowers_the_total(chosen, data):
    question = BANK.questions[data.draw(st.sampled_from(sorted(chosen)))]
    position = question.options.index(chosen[question.id])
    stronger = data.draw(st.sampled_from(question.options[position:]))
    assert result({**chosen, question.id: stronger})["total_level"] >= result(chosen)["total_level"]


@settings(max_examples=300, deadline=None)
@given(answer_sets())
def test_caps_are_caps(chosen):
    caps = [o.cap for o in chosen.values() if o.cap is not None]
    if caps:
        assert result(chosen)["total_level"] <= min(caps)
        assert result(chosen)["rounded_level"] <= min(caps)


def test_a_cap_holds_against_every_other_answer_at_its_strongest():
    """The origin's V4: a capped answer among the strongest ones was shown above its cap (2.5 as 3.0)."""
    for question in QUESTIONS:
        for option in question.options:
            if option.cap is not None:
                chosen = {q.id: q.options[-1] for q in QUESTIONS} | {question.id: option}
                assert result(chosen)["rounded_level"] <= option.cap


@settings(max_examples=200, deadline=None)
@given(answer_sets())
def test_any_subset_scores_to_a_well_formed_result(chosen):
    answer = result(chosen)
    assert 1.0 <= answer["total_level"] <= 7.0 and round(answer["total_level"], 2) == answer["total_level"]
    assert answer["rounded_level"] * 2 == int(answer["rounded_level"] * 2)
    assert abs(answer["rounded_level"] - answer["total_level"]) <= 0.25
    assert answer["level_label"] == BANK.labels[answer["rounded_level"]]
    answered = {BANK.questions[q].dimension for q in chosen}
    assert list(answer["dimension_scores"]) == [d for d in BANK.dimensions if d in answered]
    assert list(answer["dimension_comments"]) == list(answer["dimension_scores"])
    assert len(answer["advantages"]) <= 3 and len(answer["weaknesses"]) <= 3
    assert not set(answer["advantages"]) & set(answer["weaknesses"])
    assert answer["summary_text"]


@settings(max_examples=100, deadline=None)
@given(answer_sets())
def test_the_same_answers_give_the_same_bytes(chosen):
    """Determinism, whatever order the answers arrive in and however often they are scored."""
    reordered = dict(reversed(list(chosen.items())))
    assert orjson.dumps(result(chosen)) == orjson.dumps(result(reordered)) == orjson.dumps(result(dict(chosen)))


@settings(max_examples=100, deadline=None)
@given(answer_sets(), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5))
def test_unknown_and_foreign_answers_are_dropped(chosen, junk):
    sent = {q: o.id for q, o in chosen.items()}
    question_ids = list(BANK.questions)
    # Each question answered with another question's option: the origin accepted it.
    foreign = {q: BANK.questions[question_ids[i - 1]].options[0].id for i, q in enumerate(question_ids) if q not in sent}
    kept = scoring.valid_answers(BANK, {**junk, **foreign, **sent})
    assert kept == chosen


def test_no_fitting_answer_leaves_nothing_to_score():
    assert scoring.valid_answers(BANK, {"Q999": "Q999_A0", "Q1": "nope"}) == {}


@pytest.mark.parametrize(
    "total, rounded",
    [(2.25, 2.0), (2.75, 3.0), (2.24, 2.0), (2.26, 2.5), (2.74, 2.5), (3.0, 3.0), (6.75, 7.0), (1.0, 1.0)],
)
def test_rounding_sends_an_exact_tie_to_the_whole_number(total, rounded):
    assert scoring.round_half(total) == rounded


def test_a_gaussian_away_from_the_edges_is_centred_on_its_level():
    """What the origin's kernels do in the middle of the grid, kept; at the edges they no longer bend the mean."""
    assert bank_file.kernel_mean(4.0, "normal") == pytest.approx(4.0)
    assert bank_file.kernel_mean(4.0, "locator") == pytest.approx(4.0)
    assert bank_file.kernel_mean(4.5, "floor") > 4.5


def test_a_lopsided_player_is_pulled_down_by_at_most_one_level():
    """Strong everywhere but in one uncapped dimension: below their level, by no more than the weak answer's
    weight in the mean plus the pull's 1.0."""
    strong = consistent(STAGES["basic"], 5.0)
    weak_question = next(q for q in STAGES["basic"] if q.dimension == "net")
    weak = weak_question.options[0]
    assert weak.cap is None
    total = result({**strong, weak_question.id: weak})["total_level"]
    unpulled = result({**{q: o for q, o in strong.items() if q != weak_question.id}})["total_level"]
    share = weak_question.weight / sum(q.weight for q in STAGES["basic"])
    assert total < unpulled - share * (5.0 - weak.level) - 0.5  # more than the weak answer's share of the mean
    assert total >= 5.0 - share * (5.0 - weak.level) - 1.0 - 0.25


def test_advantages_and_weaknesses_stand_out_from_the_mean():
    chosen = consistent(STAGES["basic"], 3.0)
    forehand = next(q for q in STAGES["basic"] if q.dimension == "forehand")
    backhand = next(q for q in STAGES["basic"] if q.dimension == "backhand")
    chosen |= {forehand.id: forehand.options[-1], backhand.id: backhand.options[0]}
    answer = result(chosen)
    assert answer["advantages"][0] == "forehand"
    assert answer["weaknesses"][0] == "backhand"
    names = [BANK.dimensions[k].name for k in ("forehand", "backhand")]
    assert all(name in answer["summary_text"] for name in names)
