"""ovstest test-conntrack beside the model: read its output, run its binary.

- :mod:`ctbench.ovstest.parse` reads ovstest's output, as printed or as
  pasted in a patch email (indented, quoted in replies);
- :mod:`ctbench.ovstest.records` turns what was read into ctbench results:
  summary-only backends whose statistics are ovstest's own;
- :mod:`ctbench.ovstest.runner` runs a binary with a time bound and
  measures its wall time and peak RSS;
- :mod:`ctbench.ovstest.plan` runs ``ovstest`` after ctbench's own
  backends, with the same arguments, into the same run.

What a report says of ovstest's rows is :mod:`ctbench.report.ovstest_figures`.

Nothing here prints.
"""
