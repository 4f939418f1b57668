"""Checks on the repository itself: the docs' links, the source's portability to Windows, the benchmark's set-up."""
