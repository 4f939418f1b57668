"""The test suite. A package, so its modules import one another as `tests.helpers...` and `tests.fakes...`
from the repository's root, on every platform."""
