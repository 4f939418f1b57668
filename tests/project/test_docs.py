"""The docs a self-hoster reads: every relative link and #anchor in README.md, SECURITY.md and docs/ resolves,
and every test file, folder or test they name exists."""
import ast
import functools
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*(```+|~~~+)")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# tests/auth, tests\auth\test_login.py::test_name (PowerShell's spelling), fuzz/test_api_fuzz.py
TEST_PATH = re.compile(r"\b(?:tests|fuzz)[/\\][\w./\\-]*(?:::\w+)?")
TEST_NAME = re.compile(r"`(test_\w+)`")


def prose_lines(path, blank_code=True):
    """(line number, text) of the lines outside fenced code; inline code blanked unless told not to."""
    fence = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        opening = FENCE.match(line)
        if opening:
            fence = opening.group(1)[:3] if fence is None else None if opening.group(1).startswith(fence) else fence
            continue
        if fence is None:
            yield number, re.sub(r"`[^`]*`", lambda span: " " * len(span.group()), line) if blank_code else line


def slug(heading):
    """GitHub's anchor for a heading: lower case, letters, digits, '-' and '_', spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.replace("`", "")).strip().lower()
    return "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN").replace(" ", "-")


def anchors(path):
    found, seen = set(), {}
    for _, line in prose_lines(path, blank_code=False):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            found.add(f"{base}-{seen[base]}" if base in seen else base)
            seen[base] = seen.get(base, 0) + 1
    return found


@functools.cache
def names_of_tests(path):
    """The names of the test functions defined in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


def missing_tests(page):
    """Test files, folders and tests the page names (commands included) that do not exist: a test moved or renamed
    without its docs (SECURITY.md named a console test by a name it had lost)."""
    files = sorted((ROOT / "tests").rglob("test_*.py"))
    every_test = {path.stem for path in files}.union(*map(names_of_tests, files))
    missing = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        for named in TEST_PATH.findall(line):
            path, _, test = named.rstrip(".").partition("::")
            file = ROOT / path.replace("\\", "/")
            if not file.exists() or test and test not in names_of_tests(file):
                missing.append(f"{number}: {named}: no such test")
        missing += [f"{number}: {test}: no such test" for test in TEST_NAME.findall(line) if test not in every_test]
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_every_test_named_resolves(page):
    broken = []
    for number, line in prose_lines(page):
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            if not destination.exists():
                broken.append(f"{number}: {target}: no such file")
            elif anchor and anchor not in anchors(destination):
                broken.append(f"{number}: {target}: no such heading")
    assert broken + missing_tests(page) == []

