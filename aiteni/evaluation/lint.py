"""What a careful author of a bank avoids, found where a program can (docs/questions-spec.md, Version 3 §4).

`flask questions check` reports these beside the scoring flaws (exit 1); the
server does not refuse to start over them: a club's wording is its own.
- Reading load: the basic stage's question and option texts, `**` markup
  left out, at most READING_BUDGET characters.
- Numeric ranges of one question's options never overlap (两三拍 / 三五拍
  share 三): a player whose count is 3 could pick either.
- One fact, one level: options sharing a `fact` carry the same level.
- Observable references only: words that name no level a player can see
  (专业水准, 城市级 with no event named) and seniority in labels (资深).
- A dimension's comments describe the play at a score; whether the dimension
  stands out is its tail's to say (texts.py), so a comment that calls it a
  strength or a weakness (优势, 短板...) would contradict the tail of a player
  of another level.
"""
import math
import re

READING_BUDGET = 2400
VAGUE = ("专业水准", "专业队水准", "城市级", "资深")
RELATIVE = ("优势", "短板", "强项", "弱项", "拖累")

_DIGITS = {"零": 0, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"(?:\d+|[零一两二三四五六七八九十]+)"
# A count is a number with the unit it counts: 一发 and 二发 (first and second serve) are no counts.
_UNIT = r"(?:个来回|来回|拍|个|次|年|局|盘|场|分|周|天|月)"
_RANGE = re.compile(
    rf"(?P<under>不到)?(?P<low>{_NUMBER})(?:(?:到|至|-|～|~)(?P<high>{_NUMBER}))?(?P<unit>{_UNIT})(?P<up>以上)?"
)


def _value(text):
    """A number written in digits or Chinese numerals (up to 99)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
    if len(text) == 2 and all(c in _DIGITS for c in text):
        return None  # 两三: a range written as two numerals, read by _ranges
    return _DIGITS.get(text)


def _ranges(text):
    """[(low, high, unit)] of the counts in an option's text; high may be math.inf, low -math.inf."""
    found = []
    for match in _RANGE.finditer(text.replace("**", "")):
        low_text, high_text = match["low"], match["high"]
        if high_text is None and len(low_text) == 2 and all(c in _DIGITS for c in low_text):
            low_text, high_text = low_text[0], low_text[1]  # 两三, 五六
        low = _value(low_text)
        high = _value(high_text) if high_text else low
        if low is None or high is None:
            continue
        if match["under"]:
            low, high = -math.inf, low - 0.5
        if match["up"]:
            high = math.inf
        found.append((low, high, match["unit"]))
    return found


def _overlaps(question):
    found = []
    counted = [(option, r) for option in question.options for r in _ranges(option.text)]
    for i, (first, (low1, high1, unit1)) in enumerate(counted):
        for second, (low2, high2, unit2) in counted[i + 1:]:
            if first is not second and unit1 == unit2 and low1 <= high2 and low2 <= high1:
                found.append(f"question {question.id}: {first.id} and {second.id} count overlapping {unit1}")
    return found


def lint(bank):
    """Every finding of the module docstring's list, as one line each."""
    found = []
    reading = sum(len(q.text) + sum(len(o.text.replace("**", "")) for o in q.options) for q in bank.tier("basic"))
    if reading > READING_BUDGET:
        found.append(f"the basic stage has {reading} characters to read (at most {READING_BUDGET})")
    facts = {}
    for question in bank.questions.values():
        found += _overlaps(question)
        for option in question.options:
            if option.fact:
                facts.setdefault(option.fact, []).append(option)
            found += [f"option {option.id}: {word!r} names no level a player can observe"
                      for word in VAGUE if word in option.text]
    for fact, options in facts.items():
        if len({o.level for o in options}) > 1:
            levels = ", ".join(f"{o.id} {o.level}" for o in options)
            found.append(f"fact {fact!r} is at more than one level: {levels}")
    for dimension in bank.dimensions.values():
        found += [f"[dimensions.{dimension.key}] comments: {word!r} judges the dimension against the others "
                  "(the tails do that)" for band in dimension.comments for word in RELATIVE if word in band.text]
    for level, label in bank.labels.items():
        found += [f"[levels] {level:.1f}: {word!r} says seniority, not skill" for word in VAGUE if word in label]
    return found
