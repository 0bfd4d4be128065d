#!/bin/bash
# run_case.sh CASE: rebuild one case of this corpus (run from the repository root, as root).
#   1. CASE/make_input.sh WORK      writes WORK/meta_in.img with our tools
#   2. era_check + era_dump --logical of the input (the input's truth, before the kernel)
#   3. the oracle VM (ORACLE, default the repository's oracle/) runs CASE/workload.sh with
#      META_IN=WORK/meta_in.img
#   4. keeps workload.log, status.txt, meta_in.img.gz, meta.img.gz, expected_workload.txt
# ERA_BIN (default target/release) holds our binaries.
set -euo pipefail
c=$1
D=testdata/kernel_accepts
B=${ERA_BIN:-target/release}
ORACLE=${ORACLE:-$(cd "$(dirname "$0")/../.." && pwd)/oracle}
W=/tmp/kernel_accepts/$c
rm -rf "$W"; mkdir -p "$W"
ERA_BIN=$B bash "$D/$c/make_input.sh" "$W"
"$B/era_check" "$W/meta_in.img"
"$B/era_dump" --logical "$W/meta_in.img" > "$W/meta_in_logical.xml"
META_IN="$W/meta_in.img" "$ORACLE/run.sh" "$D/$c/workload.sh" "$W/out"
if grep -E 'device-mapper|era|persistent|space map|btree' "$W/out/console.log" | grep -v '^@@' | grep -iE 'err|fail|warn|bug'; then
    echo "run_case: $c: dm errors in console.log" >&2; exit 1
fi
grep '^@@STATUS' "$W/out/workload.log" | cut -d' ' -f2- > "$D/$c/status.txt"
cp "$W/out/workload.log" "$D/$c/"
gzip -9 -n -c "$W/meta_in.img" > "$D/$c/meta_in.img.gz"
gzip -9 -n -c "$W/out/meta.img" > "$D/$c/meta.img.gz"
python3 "$D/make_expected.py" "$W/meta_in_logical.xml" "$W/out/workload.log" > "$W/expected_workload.txt"
if [[ $(wc -l < "$W/expected_workload.txt") -gt 10000 ]]; then
    gzip -9 -n -c "$W/expected_workload.txt" > "$D/$c/expected_workload.txt.gz"
else
    cp "$W/expected_workload.txt" "$D/$c/"
fi
# a snapshot the kernel left held: its truth is the snapshot of the input, untouched
if "$B/era_dump" --metadata-snapshot --logical "$W/out/meta.img" > "$W/out_snap.xml" 2>/dev/null; then
    "$B/era_dump" --metadata-snapshot --logical "$W/meta_in.img" > "$W/in_snap.xml"
    cmp "$W/in_snap.xml" "$W/out_snap.xml" || { echo "run_case: $c: snapshot changed" >&2; exit 1; }
    python3 - "$W/in_snap.xml" > "$D/$c/expected_workload_snap.txt" <<'PY'
import re, sys
x = open(sys.argv[1]).read()
sb = re.search(r'<superblock [^>]*nr_blocks="(\d+)" current_era="(\d+)"', x)
print("# logical era of each block in the metadata snapshot: era_dump --metadata-snapshot --logical of meta_in.img")
print(f"# nr_blocks={sb.group(1)} current_era={sb.group(2)}; format: block era (unlisted blocks: era 0)")
for m in re.finditer(r'<era block="(\d+)" era="([1-9]\d*)"/>', x):
    print(m.group(1), m.group(2))
PY
fi
"$B/era_check" "$W/out/meta.img"
# the kernel's output, folded by our era_dump, must be the truth
"$B/era_dump" --logical "$W/out/meta.img" | sed -n 's/.*<era block="\([0-9]*\)" era="\([1-9][0-9]*\)".*/\1 \2/p' > "$W/out_logical.txt"
grep -v "^#" "$W/expected_workload.txt" | diff - "$W/out_logical.txt" \
    || { echo "run_case: $c: folded eras differ from the truth" >&2; exit 1; }
echo "run_case: $c ok"
