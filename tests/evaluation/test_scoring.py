"""The scoring, pure: calibrated, monotone, capped and floored, deterministic, forgiving of stale answers,
and a Result whose every sentence agrees with its level and says how sure it is (Version 3).

Property-based (hypothesis) over the shipped bank: any non-empty subset of
questions, any options.
"""
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiteni.evaluation import bank as bank_file
from aiteni.evaluation import check, scoring
from aiteni.evaluation.bank import GRID, nearest

BANK = bank_file.load()
QUESTIONS = list(BANK.questions.values())
STAGES = {
    "basic": [q for q in QUESTIONS if q.tier == "basic"],
    "full": QUESTIONS,
}
TAILS = {kind: {c: text for c, text in tails.items()} for kind, tails in BANK.tails.items()}


def consistent(questions, level):
    """The player of `level`: in every question the option nearest it, the lower on a tie (QUESTIONS.md)."""
    return {q.id: nearest(q.leveled, level) for q in questions}


def result(chosen):
    return scoring.score(BANK, chosen)


@st.composite
def answer_sets(draw, min_size=1):
    """A non-empty subset of the bank's questions, each with any of its options, at least one with a level."""
    questions = draw(st.lists(st.sampled_from(QUESTIONS), min_size=min_size, unique_by=lambda q: q.id))
    chosen = {q.id: draw(st.sampled_from(q.options)) for q in questions}
    if all(o.neutral for o in chosen.values()):
        chosen[questions[0].id] = draw(st.sampled_from(questions[0].leveled))
    return chosen


def classes_said(answer, key):
    """How the Result's texts classify dimension `key`: the set of classes its tail, lists and summary say."""
    kind = BANK.dimensions[key].kind
    said = {c for c, tail in TAILS[kind].items() if answer["dimension_comments"][key].endswith(tail)}
    if key in answer["advantages"]:
        said.add("strength")
    if key in answer["weaknesses"]:
        said.add("weakness")
    return said


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("level", GRID)
def test_a_consistent_player_gets_their_level_surely(stage, level):
    """Calibrated at every level the bank reaches (1.0 to 7.0), with a narrow range and a high confidence."""
    answer = result(consistent(STAGES[stage], level))
    assert answer["rounded_level"] == level
    low, high = answer["level_range"]
    assert low <= level <= high and high - low <= 0.5
    assert answer["confidence"] >= 0.9 and answer["consistent"] and not answer["provisional"]


def test_the_weakest_answers_everywhere_are_rated_one():
    """1.0 is reachable (Version 3 §3): the bank's 1.0 options, and the weakest elsewhere."""
    assert result({q.id: q.leveled[0] for q in STAGES["basic"]})["rounded_level"] == 1.0
    assert check.reachable(BANK, "basic") == (1.0, 7.0)


@settings(max_examples=300, deadline=None)
@given(answer_sets(), st.data())
def test_a_stronger_option_never_lowers_the_total(chosen, data):
    question = BANK.questions[data.draw(st.sampled_from(sorted(chosen)))]
    if chosen[question.id].neutral:
        return
    position = question.leveled.index(chosen[question.id])
    stronger = data.draw(st.sampled_from(question.leveled[position:]))
    assert result({**chosen, question.id: stronger})["total_level"] >= result(chosen)["total_level"]


@settings(max_examples=300, deadline=None)
@given(answer_sets())
def test_caps_and_floors_hold(chosen):
    """The total never passes the smallest cap; it reaches the largest floor unless a cap forbids it."""
    total = result(chosen)["total_level"]
    caps = [o.cap for o in chosen.values() if o.cap is not None]
    floors = [o.floor_total for o in chosen.values() if o.floor_total is not None]
    if caps:
        assert total <= min(caps)
    if floors:
        assert total >= min([max(floors), *caps])


def test_a_floor_holds_against_every_weakest_answer():
    """A former provincial-team player who answers weakly everywhere else is not rated below their floor."""
    for question in QUESTIONS:
        for option in question.leveled:
            if option.floor_total is not None:
                chosen = {q.id: q.leveled[0] for q in STAGES["basic"] if q.leveled[0].cap is None} | {question.id: option}
                assert result(chosen)["total_level"] >= option.floor_total


@settings(max_examples=300, deadline=None)
@given(answer_sets())
def test_no_dimension_is_praised_in_one_place_and_faulted_in_another(chosen):
    """One classification drives the tails, the lists and the summary (Version 3 §1)."""
    answer = result(chosen)
    for key in answer["dimension_scores"]:
        assert len(classes_said(answer, key)) == 1, (key, answer)
    for listed in ("advantages", "weaknesses"):
        names = BANK.separator.join(BANK.dimensions[key].name for key in answer[listed])
        assert (BANK.summary[listed].format(names=names) in answer["summary_text"]) == bool(answer[listed])
    assert bool(answer["weaknesses"]) == (BANK.summary["advice"] in answer["summary_text"])


@settings(max_examples=300, deadline=None)
@given(answer_sets())
def test_a_dimension_at_its_ceiling_is_never_a_weakness(chosen):
    answer = result(chosen)
    for key in answer["dimension_scores"]:
        at_top = all(option is BANK.questions[q].leveled[-1] for q, option in chosen.items()
                     if BANK.questions[q].dimension == key and not option.neutral)
        if at_top:
            assert "weakness" not in classes_said(answer, key)


def test_the_strongest_player_is_not_faulted_nor_called_an_amateur():
    """The origin told a 7.0 player that nine dimensions dragged them down, and called them an amateur."""
    answer = result({q.id: q.leveled[-1] for q in QUESTIONS})
    assert answer["rounded_level"] == 7.0 and answer["weaknesses"] == []
    assert not any(c.endswith(TAILS["skill"]["weakness"]) for c in answer["dimension_comments"].values())
    assert "业余" not in answer["summary_text"] and "业余" not in answer["level_label"]


@pytest.mark.parametrize("level", [6.0, 6.5, 7.0])
def test_no_level_from_six_up_is_called_amateur(level):
    answer = result(consistent(STAGES["full"], level))
    assert "业余" not in answer["summary_text"] + answer["level_label"]


@settings(max_examples=300, deadline=None)
@given(answer_sets())
def test_the_range_holds_the_level_and_a_missing_dimension_is_provisional(chosen):
    answer = result(chosen)
    low, high = answer["level_range"]
    assert 1.0 <= low <= answer["rounded_level"] <= high <= 7.0 and (low * 2).is_integer() and (high * 2).is_integer()
    assert 0 <= answer["confidence"] <= 1 and round(answer["confidence"], 2) == answer["confidence"]
    answered = {BANK.questions[q].dimension for q in chosen}
    provisional = not BANK.basic_keys <= answered
    assert answer["provisional"] == provisional
    if provisional:
        assert high - low >= 1.5
        assert BANK.summary["provisional"] in answer["summary_text"]


@pytest.mark.parametrize("answers", [{"Q11": "Q11_A9"}, {"Q12": "Q12_A0"}, {"Q3": "Q3_A9"}])
def test_one_answer_never_rates_a_player_surely(answers):
    """The origin rated {"Q11": <pro tour>} alone 7.0, and {"Q12": <a few times>} alone 1.0, with no doubt."""
    answer = result(scoring.valid_answers(BANK, answers))
    low, high = answer["level_range"]
    assert answer["provisional"] and high - low >= 1.5 and answer["confidence"] < 0.9


def test_need_advanced_follows_the_range_not_only_the_total():
    """A basic 2.5 whose range reaches 3.0 is invited to the advanced stage."""
    assert scoring.need_advanced(BANK, [2.5, 3.0]) and not scoring.need_advanced(BANK, [2.0, 2.5])


def test_a_beginner_is_not_told_to_build_points_around_training():
    answer = result(consistent(STAGES["basic"], 1.5) | {"Q12": BANK.options["Q12_A8"]})
    comment = answer["dimension_comments"]["training"]
    assert "组织得分" not in comment and comment.endswith(tuple(TAILS["background"].values()))


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


def test_neutral_answers_alone_carry_no_level():
    neutral = {q.id: o for q in QUESTIONS for o in q.options if o.neutral}
    assert neutral and scoring.score(BANK, neutral) is None


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


def _with(chosen, dimension, level):
    """`chosen` with every question of `dimension` answered nearest `level`."""
    return chosen | {q.id: nearest(q.leveled, level) for q in STAGES["basic"] if q.dimension == dimension}


def test_a_baseliner_who_is_weak_at_the_net_is_not_dropped_a_full_level():
    """Version 3 §3: a 5.0 player whose volleys are 3.0 (the origin: 3.5)."""
    answer = result(_with(consistent(STAGES["basic"], 5.0), "net", 3.0))
    assert answer["rounded_level"] >= 4.5 and "net" in answer["weaknesses"]


def test_background_and_results_never_pull_the_level():
    """A 4.0 player who started under a year ago is still 4.0; a match record of 2.5 is no stroke to drag."""
    player = consistent(STAGES["basic"], 4.0)
    assert result(_with(player, "training", 2.0))["rounded_level"] == 4.0
    assert scoring.levels(BANK, _with(player, "match_result", 2.5)).total >= scoring.levels(
        BANK, _with(player, "match_result", 2.5)).answers_level


def test_a_lopsided_player_is_pulled_down_by_at_most_one_level():
    strong = consistent(STAGES["basic"], 5.0)
    found = scoring.levels(BANK, _with(strong, "net", 1.5))  # net has no cap: the pull alone
    assert found.answers_level - 1.0 <= found.total < found.answers_level
