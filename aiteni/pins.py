"""The fence around our patches of libraries' private parts: each runs only on the version it was written for.

auth/jwtmanager.py and waitress_patches.py reach into Flask-JWT-Extended's and waitress's
internals, which may change in any release. At start each asks `pinned()` whether the
running version is the one requirements.txt pins; on another it logs one line and the
library's stock behaviour is used (docs/development.md, "Patches of libraries").
"""
import importlib.metadata
import logging

log = logging.getLogger(__name__)

# The version each patch was written against; requirements.txt pins the same (tests/project/test_pins.py).
PINNED = {"Flask-JWT-Extended": "4.7.4", "waitress": "3.0.2"}


def pinned(distribution, patch, found=None):
    """Whether `distribution` runs at its PINNED version, so that `patch` (what it changes) may be applied.

    Otherwise one warning says which version was found and that the stock behaviour is used.
    `found` stands in for the installed version (tests).
    """
    version = PINNED[distribution]
    try:
        found = found or importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:  # installed without its metadata (a frozen build, a copy)
        found = "of no known version"
    if found == version:
        return True
    log.warning("%s %s is installed, not the pinned %s: aiteni's patch of it (%s) is off, "
                "%s's stock behaviour is used", distribution, found, version, patch, distribution)
    return False
