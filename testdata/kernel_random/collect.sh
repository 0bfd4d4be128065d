#!/bin/bash
# collect.sh [CASE...]: rebuild cases of this corpus through the oracle (as root; run from
# the repository root; ORACLE, default the repository's oracle/). Default: every case that
# generate.py knows.
#   1. generate.py writes the workloads into a scratch directory
#   2. the oracle's run-all.sh runs them (WORKLOADS_DIR/CORPUS_DIR pointing there)
#   3. the files below are kept in testdata/kernel_random/CASE/, and truth.py rewrites the
#      expected_workload*.txt (analyze.py's, plus the shrink rule)
set -euo pipefail
D=testdata/kernel_random
ORACLE=${ORACLE:-$(cd "$(dirname "$0")/../.." && pwd)/oracle}
W=${WORK:-/tmp/kernel_random}
mkdir -p "$W/workloads" "$W/corpus"
W=$(readlink -f "$W")
python3 "$D/generate.py" "$W/workloads"
cases=("$@")
if ((${#cases[@]} == 0)); then
    for f in "$W"/workloads/*.sh; do cases+=("$(basename "$f" .sh)"); done
fi
rc=0
for c in "${cases[@]}"; do
    if ! WORKLOADS_DIR="$W/workloads" CORPUS_DIR="$W/corpus" "$ORACLE/run-all.sh" "$c"; then
        echo "collect: $c failed" >&2; rc=1; continue
    fi
    if grep -E 'device-mapper|era|persistent|space map|btree' "$W/corpus/$c/console.log" | grep -v '^@@' \
        | grep -iE 'err|fail|warn|bug'; then
        echo "collect: $c: dm errors in console.log" >&2; rc=1; continue
    fi
    rm -rf "${D:?}/$c"; mkdir -p "$D/$c"
    for f in meta.img.gz workload.sh workload.log manifest.txt status.txt run_info.txt; do
        cp "$W/corpus/$c/$f" "$D/$c/"
    done
    python3 "$D/truth.py" "$D/$c"
done
exit $rc
