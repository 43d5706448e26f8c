#!/bin/sh
# Run the small zone scenario and compare it with the committed baseline.
#
#   bench/ci_regression.sh [extra ctbench compare options...]
#
# Exit status is ctbench compare's: 0 no regression, 1 regression (or work
# counters differ with --counters-must-match), 2 usage or file error,
# 3 inconclusive rows with --strict.  In GitHub Actions the Markdown report is
# appended to the job summary ($GITHUB_STEP_SUMMARY).  Environment:
#   CTBENCH   the ctbench command (default: ctbench)
#   BASELINE  the baseline file (default: results/baseline-zones-small.json)
#   CANDIDATE where the new run is written (default: a temporary file)
# The scenario must match the baseline's; see results/README.md.
set -eu

cd "$(dirname "$0")/.."
CTBENCH=${CTBENCH:-ctbench}
BASELINE=${BASELINE:-results/baseline-zones-small.json}
if [ -z "${CANDIDATE:-}" ]; then
    CANDIDATE=$(mktemp "${TMPDIR:-/tmp}/ctbench-candidate.XXXXXX")
    trap 'rm -f "$CANDIDATE"' EXIT
fi

$CTBENCH benchmark-zones 1000 20 1000 -q --format table --output "$CANDIDATE"

status=0
$CTBENCH compare "$BASELINE" "$CANDIDATE" --counters-must-match "$@" || status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ "$status" -ne 2 ]; then
    $CTBENCH compare "$BASELINE" "$CANDIDATE" --counters-must-match --format markdown "$@" \
        >>"$GITHUB_STEP_SUMMARY" || true
fi
exit "$status"
