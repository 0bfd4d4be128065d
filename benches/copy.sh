#!/usr/bin/env bash
# era_copy against its peers (issue 18), side by side on one origin image per shape:
#
#   benches/copy.sh                       # every shape: 0.1 1 10 (scattered) 50runs
#   benches/copy.sh 1 50runs              # some shapes
#   BENCH_ORIGIN_MIB=16384 benches/copy.sh    # the issue's 16 GiB origin (default 2048)
#   BENCH_DIR=/tmp/b BENCH_BIN=target/release benches/copy.sh
#
# Each shape: a sparse origin of BENCH_ORIGIN_MIB with 4 KiB blocks; `era_emulate run`
# (--unsafe-no-sync) writes the changed blocks in era 1 (scattered: that share of the
# blocks, chosen at random, one write each; 50runs: half of the 1 MiB-aligned runs of
# 256 blocks), every changed byte a data byte (0x01..0xfe, not a hole), then a
# checkpoint. Then, each into a fresh sparse destination, timed with /usr/bin/time
# (wall seconds, peak RSS):
#   era_copy        era_copy --written-since 1 --dest
#   delta pipe      era_copy --dest-delta - | era_copy --apply -
#   dd per range    one dd per line of era_invalidate --format ranges --unit bytes
#   rsync           rsync --inplace --no-whole-file origin dest (reads both whole)
#   dd sequential   one dd of the same number of bytes (bs=1M), the throughput floor
# Every copy is compared with the origin (cmp) after it ran. Files stay in the page
# cache (the caches are not dropped: the machine is shared), so the figures compare
# the tools' own costs, not the disk.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BENCH_BIN:-${CARGO_TARGET_DIR:-$here/target}/release}"
dir="${BENCH_DIR:-/tmp/era-copy-bench}"
mib="${BENCH_ORIGIN_MIB:-2048}"
shapes=("$@")
[ "${#shapes[@]}" -gt 0 ] || shapes=(0.1 1 10 50runs)
mkdir -p "$dir"
nr_blocks=$(( mib * 256 ))

timed() { # label bytes cmd...: prints one row
    local label="$1" bytes="$2"; shift 2
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$dir/time" bash -c "$*" >/dev/null 2>"$dir/err" || {
        echo "$label failed:"; cat "$dir/err"; exit 1; }
    t1=$(date +%s%N)
    local secs rss
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    read -r rss < "$dir/time"
    awk -v l="$label" -v s="$secs" -v r="$rss" -v b="$bytes" 'BEGIN {
        mbs = (s > 0) ? b / 1048576 / s : 0;
        printf "| %-14s | %8.3f | %9.0f | %7.1f |\n", l, s, mbs, r / 1024 }'
}

fresh() { rm -f "$1"; truncate -s "${mib}M" "$1"; }

for shape in "${shapes[@]}"; do
    meta="$dir/meta.$shape" origin="$dir/origin.$shape"
    if [ ! -f "$origin.done" ]; then
        rm -f "$meta" "$origin"
        truncate -s 64M "$meta"
        truncate -s "${mib}M" "$origin"
        python3 - "$shape" "$nr_blocks" > "$dir/script.$shape" <<'PY'
import random, sys
shape, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(18)
if shape.endswith("runs"):
    slots = n // 256
    for s in sorted(rng.sample(range(slots), slots * int(shape[:-4]) // 100)):
        print(f"write {s * 256 * 8} {256 * 8} {1 + s % 254}")
else:
    k = max(1, int(n * float(shape) / 100))
    for b in sorted(rng.sample(range(n), k)):
        print(f"write {b * 8} 8 {1 + b % 254}")
print("checkpoint")
PY
        "$bin/era_emulate" run --unsafe-no-sync --meta "$meta" --origin "$origin" \
            --block-size 8 "$dir/script.$shape" >/dev/null
        touch "$origin.done"
    fi
    ranges="$dir/ranges.$shape"
    "$bin/era_invalidate" --written-since 1 --format ranges --unit bytes "$meta" > "$ranges"
    bytes=$(awk '{ s += $2 - $1 } END { print s + 0 }' "$ranges")
    runs=$(wc -l < "$ranges")
    echo
    echo "shape $shape: origin ${mib} MiB, $nr_blocks blocks of 4 KiB, $((bytes / 4096)) changed in $runs runs ($((bytes >> 20)) MiB)"
    echo "| tool           | seconds | MiB/s     | RSS MiB |"
    echo "|----------------|---------|-----------|---------|"
    dest="$dir/dest"
    fresh "$dest"
    timed "era_copy" "$bytes" "$bin/era_copy --metadata $meta --written-since 1 --source $origin --dest $dest"
    cmp "$origin" "$dest"
    fresh "$dest"
    timed "delta pipe" "$bytes" "$bin/era_copy --metadata $meta --written-since 1 --source $origin --dest-delta - | $bin/era_copy --apply - --dest $dest"
    cmp "$origin" "$dest"
    fresh "$dest"
    timed "dd per range" "$bytes" "while read -r b e; do dd if=$origin of=$dest bs=1M skip=\$b seek=\$b count=\$((e - b)) iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc status=none; done < $ranges"
    cmp "$origin" "$dest"
    fresh "$dest"
    timed "rsync" "$bytes" "rsync --inplace --no-whole-file $origin $dest"
    cmp "$origin" "$dest"
    rm -f "$dest"
    timed "dd sequential" "$bytes" "dd if=$origin of=$dest bs=1M count=$bytes iflag=count_bytes status=none"
    rm -f "$dest"
done
