"""Suite-wide settings: every hypothesis test draws the same examples on
every run (derandomize), so the suite is deterministic, as a CI gate must
be; bench/ holds the longer, random explorations."""

from hypothesis import settings

settings.register_profile("ctbench", derandomize=True)
settings.load_profile("ctbench")
