"""ctbench sweep: benchmark-zones over a grid of sizes, and how each phase's
cost grows with them.

- :mod:`grid`: the validated grid, its points, their file names and
  command lines (the plan);
- :mod:`runner`: runs the points one after the other, keeping each finished
  one as an ordinary results file;
- :mod:`analysis`: from results files to observations and power-law fits;
- :mod:`document`: the sweep and plan files (JSON), written and read back
  with validation.
"""
