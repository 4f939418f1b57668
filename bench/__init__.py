"""Load benchmark of the hot endpoints: `python -m bench --help`."""
