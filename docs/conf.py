"""Sphinx configuration for ctbench's manual (Markdown pages, read by MyST).

Built strictly, so that a broken link or reference fails the build:

    sphinx-build -W -n --keep-going -b html docs docs/_build/html

(``tox -e docs`` and ``.ci/run`` run exactly that).
"""

project = "ctbench"
author = "ctbench's authors"
copyright = "ctbench's authors"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Every heading down to ### gets an anchor, so `page.md#heading` links are
# checked like page links: a missing one is a warning, and -W an error.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

# No network in the build: external links are not fetched (run
# `sphinx-build -b linkcheck docs docs/_build/linkcheck` by hand for that).
html_theme = "alabaster"
html_title = "ctbench"
html_show_sourcelink = False
