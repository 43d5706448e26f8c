"""Reports: built once from a run, laid out by every format."""
