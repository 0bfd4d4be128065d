#!/usr/bin/env bash
# era_copy against its peers, side by side on one origin image per shape:
#
#   benches/copy.sh                       # every shape: 0.1 1 10 (scattered) 50runs
#   benches/copy.sh 1 50runs              # some shapes
#   BENCH_ORIGIN_MIB=16384 benches/copy.sh    # the targets' 16 GiB origin (default 2048)
#   BENCH_DIR=/tmp/b BENCH_BIN=target/release benches/copy.sh
#   BENCH_DD_LOOP_MAX_RUNS=100000         # skip the dd loop above this many runs
#   BENCH_REPEAT=3                        # runs per row; the row shows the median
#   BENCH_PEER_REPEAT=1                   # runs of the slow peers' rows (dd loop, rsync,
#                                         # blocksync); default BENCH_REPEAT
#   BENCH_DEST=allocated                  # or sparse: how each destination is made
#
# Needs a release build of the tools and of the peers:
#   cargo build --release --bins --example blocksync --example scattered
#
# Each shape: a sparse origin of BENCH_ORIGIN_MIB with 4 KiB blocks; `era_emulate run`
# (--unsafe-no-sync) writes the changed blocks in era 1 (scattered: that share of the
# blocks, chosen at random, one write each; 50runs: half of the 1 MiB-aligned runs of
# 256 blocks), every changed byte a data byte (0x01..0xfe, not a hole), then a
# checkpoint. Then, each into a fresh destination of the origin's length (allocated
# with fallocate, as the previous backup an increment lands on is, or sparse with
# BENCH_DEST=sparse), timed with /usr/bin/time (wall seconds, peak RSS; the median of
# BENCH_REPEAT runs, each into a fresh destination):
#   era_copy        era_copy --written-since 1 --dest
#   delta pipe      era_copy --dest-delta - | era_copy --apply -
#   dd per range    one dd per line of era_invalidate --format ranges --unit bytes
#                   (skipped above BENCH_DD_LOOP_MAX_RUNS runs: a process per run)
#   rsync           rsync --inplace --no-whole-file origin dest (reads both whole)
#   blocksync       benches/peers/blocksync.rs: reads both whole, compares each block's
#                   crc32c, writes the blocks that differ (what blocksync-fast does)
#   scattered floor benches/peers/scattered.rs: one thread, one pread and one pwrite
#                   per range of era_invalidate's list, then fdatasync: the cost of
#                   the scattered I/O itself, with nothing of era_copy's around it
#   dd sequential   one dd of the same number of bytes (bs=1M, conv=notrunc,fdatasync)
#                   into the same kind of destination, the throughput floor
# era_copy, the apply, blocksync and the scattered floor make the destination durable
# (fdatasync) before they exit, so the dd floor does too; rsync and the dd loop do not.
# Every copy is compared with the origin (cmp) after it ran; `sync` runs before each
# timed run so that one tool's dirty pages are not written back in another's time. The
# origin stays in the page cache where it fits (the caches are not dropped: the machine
# is shared).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BENCH_BIN:-${CARGO_TARGET_DIR:-$here/target}/release}"
dir="${BENCH_DIR:-/tmp/era-copy-bench}"
mib="${BENCH_ORIGIN_MIB:-2048}"
shapes=("$@")
[ "${#shapes[@]}" -gt 0 ] || shapes=(0.1 1 10 50runs)
max_loop="${BENCH_DD_LOOP_MAX_RUNS:-100000}"
blocksync="${BENCH_BLOCKSYNC:-$bin/examples/blocksync}"
scattered="${BENCH_SCATTERED:-$bin/examples/scattered}"
for peer in "$blocksync" "$scattered"; do
    [ -x "$peer" ] || { echo "no $peer: cargo build --release --example blocksync --example scattered"; exit 1; }
done
repeat="${BENCH_REPEAT:-3}"
peer_repeat="${BENCH_PEER_REPEAT:-$repeat}"
dest_kind="${BENCH_DEST:-allocated}"
case "$dest_kind" in allocated|sparse) ;; *) echo "BENCH_DEST: allocated or sparse"; exit 1;; esac
mkdir -p "$dir"
nr_blocks=$(( mib * 256 ))
declare -A secs_of

timed() { # label bytes cmd...: runs cmd BENCH_REPEAT times, each into a fresh
           # destination, checks each copy, prints one row (median seconds, peak RSS)
    local label="$1" bytes="$2"; shift 2
    local t0 t1 i all="" rss=0 r n="$repeat"
    case "$label" in "dd per range"|rsync|blocksync) n="$peer_repeat" ;; esac
    for ((i = 0; i < n; i++)); do
        fresh "$dest"
        sync
        t0=$(date +%s%N)
        /usr/bin/time -f '%M' -o "$dir/time" bash -c "$*" >/dev/null 2>"$dir/err" || {
            echo "$label failed:"; cat "$dir/err"; exit 1; }
        t1=$(date +%s%N)
        [ "$label" = "dd sequential" ] || cmp "$origin" "$dest"
        all+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') "
        read -r r < "$dir/time"
        [ "$r" -gt "$rss" ] && rss=$r
    done
    local secs
    secs=$(printf '%s\n' $all | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    secs_of[$label]=$secs
    awk -v l="$label" -v s="$secs" -v r="$rss" -v b="$bytes" -v all="$all" 'BEGIN {
        mbs = (s > 0) ? b / 1048576 / s : 0;
        printf "| %-15s | %8.3f | %9.0f | %7.1f | %s|\n", l, s, mbs, r / 1024, all }'
}

fresh() {
    rm -f "$1"
    if [ "$dest_kind" = allocated ]; then fallocate -l "${mib}M" "$1"; else truncate -s "${mib}M" "$1"; fi
}

for shape in "${shapes[@]}"; do
    # Kept across runs, named by origin size and shape.
    key="$mib.$shape"
    meta="$dir/meta.$key" origin="$dir/origin.$key"
    if [ ! -f "$origin.done" ]; then
        rm -f "$meta" "$origin"
        truncate -s 64M "$meta"
        truncate -s "${mib}M" "$origin"
        python3 - "$shape" "$nr_blocks" > "$dir/script.$key" <<'PY'
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
            --block-size 8 "$dir/script.$key" >/dev/null
        touch "$origin.done"
    fi
    ranges="$dir/ranges.$key"
    "$bin/era_invalidate" --written-since 1 --format ranges --unit bytes "$meta" > "$ranges"
    bytes=$(awk '{ s += $2 - $1 } END { printf "%.0f\n", s }' "$ranges")
    runs=$(wc -l < "$ranges")
    # Every tool finds the origin in the page cache as far as it fits, the first too,
    # and one untimed copy lays out what a first run after the origin was written
    # would pay for alone.
    cat "$origin" > /dev/null
    fresh "$dir/dest"
    "$bin/era_copy" --metadata "$meta" --written-since 1 --source "$origin" --dest "$dir/dest" > /dev/null 2>&1
    echo
    echo "shape $shape: origin ${mib} MiB, $nr_blocks blocks of 4 KiB, $((bytes / 4096)) changed in $runs runs ($((bytes >> 20)) MiB)"
    echo "destination: $dest_kind; median of $repeat runs ($peer_repeat for the dd loop, rsync and blocksync)"
    echo "| tool            | seconds | MiB/s     | RSS MiB | runs (s) |"
    echo "|-----------------|---------|-----------|---------|----------|"
    dest="$dir/dest"
    timed "era_copy" "$bytes" "$bin/era_copy --metadata $meta --written-since 1 --source $origin --dest $dest"
    timed "delta pipe" "$bytes" "$bin/era_copy --metadata $meta --written-since 1 --source $origin --dest-delta - | $bin/era_copy --apply - --dest $dest"
    timed "scattered floor" "$bytes" "$scattered $origin $dest $ranges"
    secs_of["dd per range"]=""
    if [ "$runs" -le "$max_loop" ]; then
        timed "dd per range" "$bytes" "while read -r b e; do dd if=$origin of=$dest bs=1M skip=\$b seek=\$b count=\$((e - b)) iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc status=none; done < $ranges"
    else
        echo "| dd per range    | skipped: $runs runs > BENCH_DD_LOOP_MAX_RUNS |"
    fi
    timed "rsync" "$bytes" "rsync --inplace --no-whole-file $origin $dest"
    timed "blocksync" "$bytes" "$blocksync $origin $dest"
    timed "dd sequential" "$bytes" "dd if=$origin of=$dest bs=1M count=$bytes iflag=count_bytes conv=notrunc,fdatasync status=none"
    rm -f "$dest"
    # The targets' ratios: throughput against the floor, speed-up against the peers,
    # the delta pipe's time against copy mode's.
    awk -v c="${secs_of[era_copy]}" -v p="${secs_of[delta pipe]}" -v l="${secs_of[dd per range]}" \
        -v r="${secs_of[rsync]}" -v k="${secs_of[blocksync]}" -v d="${secs_of[dd sequential]}" \
        -v f="${secs_of[scattered floor]}" 'BEGIN {
        printf "era_copy: %.2fx the throughput of dd sequential, %.2fx the scattered floor'"'"'s, ", d / c, f / c;
        if (l != "") printf "%.0fx faster than the dd loop, ", l / c;
        printf "%.0fx faster than rsync, %.0fx faster than blocksync; delta pipe %.2fx copy mode'"'"'s time\n", r / c, k / c, p / c }'
done
