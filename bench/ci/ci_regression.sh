#!/bin/sh
# A regression check that works on any machine: the base revision and the
# candidate, installed side by side in this job, run the same scenario
# alternately (base, candidate, base, candidate, ...), so that the machine's
# drift falls on both alike; each side's runs are pooled, then compared.
#
#   bench/ci/ci_regression.sh [BASE_REV] [-- extra ctbench compare options...]
#
# BASE_REV defaults to origin/main when it exists, else HEAD~1; the
# candidate is the working tree.  Environment:
#   ROUNDS    alternations (default 3)
#   SCENARIO  the ctbench arguments (default: benchmark-zones 1000 20 300)
#   KEEP      a directory to keep the runs and the pooled files in
#   PYTHON    the interpreter to make the two environments with (python3)
#
# Exit status is ctbench compare's: 0 no regression, 1 a row slower or work
# counters that differ (--counters-must-match, the exact gate), 2 a usage or
# file error, 3 inconclusive rows with --strict.  In GitHub Actions the
# Markdown report is appended to the job summary ($GITHUB_STEP_SUMMARY).
set -eu

cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
SCENARIO=${SCENARIO:-"benchmark-zones 1000 20 300"}
PYTHON=${PYTHON:-python3}
BASE=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    BASE=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
if [ -z "$BASE" ]; then
    if git rev-parse --verify -q origin/main >/dev/null; then BASE=origin/main; else BASE=HEAD~1; fi
fi
git rev-parse --verify -q "$BASE^{commit}" >/dev/null || {
    echo "ci_regression: no such revision: $BASE" >&2
    exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ctbench-ci.XXXXXX")
cleanup() {
    git worktree remove --force "$work/base-tree" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "ci_regression: base $(git rev-parse --short "$BASE"), candidate: the working tree" >&2
git worktree add --detach -q "$work/base-tree" "$BASE"
for side in base cand; do
    "$PYTHON" -m venv "$work/venv-$side"
done
"$work/venv-base/bin/pip" install -q "$work/base-tree"
"$work/venv-cand/bin/pip" install -q .
CT_BASE="$work/venv-base/bin/ctbench"
CT_CAND="$work/venv-cand/bin/ctbench"

i=1
while [ "$i" -le "$ROUNDS" ]; do
    echo "ci_regression: round $i of $ROUNDS" >&2
    # shellcheck disable=SC2086  # SCENARIO is a list of arguments
    $CT_BASE $SCENARIO -q --format table --output "$work/base-$i.json" >/dev/null
    # shellcheck disable=SC2086
    $CT_CAND $SCENARIO -q --format table --output "$work/cand-$i.json" >/dev/null
    i=$((i + 1))
done
# The candidate's ctbench pools and compares: it reads the base's files.
"$CT_CAND" merge "$work"/base-*.json --output "$work/base.json"
"$CT_CAND" merge "$work"/cand-*.json --output "$work/cand.json"
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp "$work"/*.json "$KEEP"/
fi

status=0
"$CT_CAND" compare "$work/base.json" "$work/cand.json" --counters-must-match "$@" || status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ "$status" -ne 2 ]; then
    "$CT_CAND" compare "$work/base.json" "$work/cand.json" --counters-must-match \
        --format markdown "$@" >>"$GITHUB_STEP_SUMMARY" || true
fi
exit "$status"
