"""A bank file's values checked one by one (ids, texts, templates, score bands), every flaw kept, so
`flask questions check` lists them all; reader.py assembles the bank from them."""
import re
import string

from ..schemas.fields import BANK_ID, BANK_ID_MAX
from .bank import HIGHEST, LOWEST, Band


def number(value):
    """A TOML integer or float, not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def half_level(value):
    return number(value) and LOWEST <= value <= HIGHEST and (float(value) * 2).is_integer()


class Reader:
    """Walks the TOML document, keeping every flaw it finds."""

    def __init__(self):
        self.flaws = []

    def flaw(self, text):
        self.flaws.append(text)

    def entry(self, spec, fields, where, seen_ids):
        """The id of a question or option table, its fields checked; None when it has no usable id."""
        for extra in spec.keys() - fields:
            self.flaw(f"{where}: unknown field {extra!r}")
        entry_id = spec.get("id")
        if not isinstance(entry_id, str) or not BANK_ID.fullmatch(entry_id):
            self.flaw(f"{where}: an id is 1–{BANK_ID_MAX} letters, digits or '_' (no '.', '[', ']')")
            return None
        if entry_id in seen_ids:
            self.flaw(f"{where}: duplicate id")
        seen_ids.add(entry_id)
        return entry_id

    def text(self, value, where, max_length=None, plain=False):
        if not isinstance(value, str) or not value.strip():
            self.flaw(f"{where}: missing or empty text")
            return ""
        if max_length and len(value) > max_length:
            self.flaw(f"{where}: longer than {max_length} characters")
        if re.search(r"[<>&]", value):
            self.flaw(f"{where}: '<', '>' and '&' are not allowed (the client renders it as HTML)")
        if plain and "**" in value:
            self.flaw(f"{where}: '**' is shown as is in a question's text")
        return value

    def template(self, value, where, allowed):
        """A sentence with {placeholders}: filled in here once, so a format the server cannot fill is a flaw."""
        value = self.text(value, where)
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError:
            self.flaw(f"{where}: unbalanced braces")
            return value
        if fields - allowed:
            self.flaw(f"{where}: unknown placeholder(s) {', '.join(sorted(fields - allowed))}")
            return value
        try:
            value.format(**dict.fromkeys(allowed, "3.5"))
        except (ValueError, KeyError, IndexError, AttributeError):
            self.flaw(f"{where}: a placeholder is written in a form the server cannot fill in ({{name}} only)")
        return value

    def bands(self, value, where, max_length=None):
        """Ranges by score: a list of {min?, max?, text} covering 1.0–7.0 together."""
        if not isinstance(value, list) or not value:
            self.flaw(f"{where}: must be a non-empty list of {{min, max, text}}")
            return ()
        bands = []
        for i, item in enumerate(value):
            if not isinstance(item, dict) or set(item) - {"min", "max", "text"}:
                self.flaw(f"{where}[{i}]: only min, max and text are allowed")
                continue
            low, high = item.get("min", LOWEST), item.get("max", HIGHEST)
            if not all(number(x) for x in (low, high)) or low > high:
                self.flaw(f"{where}[{i}]: min and max must be numbers with min <= max")
                continue
            bands.append(Band(float(low), float(high), self.text(item.get("text"), f"{where}[{i}]", max_length)))
        reached = LOWEST
        for band in sorted(bands, key=lambda b: b.low):
            if band.low > reached:
                self.flaw(f"{where}: no text for scores between {reached} and {band.low}")
            reached = max(reached, band.high)
        if bands and reached < HIGHEST:
            self.flaw(f"{where}: no text for scores between {reached} and {HIGHEST}")
        return tuple(bands)
