"""Counts instead of times: a run under valgrind's callgrind
(:mod:`ctbench.callgrind.runner`), its dumps read back
(:mod:`ctbench.callgrind.dumps`), and the child it runs
(:mod:`ctbench.callgrind.child`)."""
