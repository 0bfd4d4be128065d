#!/usr/bin/env bash
# Benchmark suite for the era tools (run by hand, not by CI).
#
#   benches/run.sh [SIZES...]      # default: 1M and 16M origin blocks
#
# For each size it generates a synthetic image (block size 128, current era 100, four
# writesets of ~10% density, random era array), then times every tool with
# /usr/bin/time and prints a markdown table: wall seconds, CPU seconds (user + system)
# and peak resident memory. The "floor" rows are the cost of reading the metadata file
# once and of writing as many bytes as the verbose dump produces.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1048576 16777216)
work=${BENCH_DIR:-$(mktemp -d /tmp/era-bench.XXXXXX)}
bin=target/release

cargo build --release --quiet
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

measure() { # label, command...
    local label=$1; shift
    local t; t=$(mktemp)
    /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >/dev/null
    read -r wall user sys rss <"$t"
    rm -f "$t"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "| %s | %s | %.2f | %.1f |\n", l, w, u + s, r / 1024 }'
}

for n in "${sizes[@]}"; do
    meta=$work/meta-$n.img
    echo
    echo "### $n origin blocks"
    echo
    "$bin/era_generate" --nr-blocks "$n" --block-size 128 --current-era 100 \
        --nr-writesets 4 --density 0.1 --seed 1 -o "$meta"
    echo "metadata image: $(du -h --apparent-size "$meta" | cut -f1) ($(du -h "$meta" | cut -f1) allocated)"
    echo
    echo "| command | wall s | CPU s | peak RSS MiB |"
    echo "|---|---|---|---|"
    measure "floor: cat metadata > /dev/null" sh -c "cat '$meta' > /dev/null"
    measure "era_check" "$bin/era_check" "$meta"
    measure "era_dump > /dev/null" sh -c "'$bin/era_dump' '$meta' > /dev/null"
    measure "era_dump -o file" "$bin/era_dump" -o "$work/dump-$n.xml" "$meta"
    bytes=$(stat -c %s "$work/dump-$n.xml")
    measure "floor: write $bytes bytes" sh -c "head -c $bytes /dev/zero > '$work/floor-$n'"
    rm -f "$work/floor-$n"
    measure "era_dump --logical > /dev/null" sh -c "'$bin/era_dump' --logical '$meta' > /dev/null"
    measure "era_dump --logical -o file" "$bin/era_dump" --logical -o "$work/logical-$n.xml" "$meta"
    measure "era_dump --compact > /dev/null" sh -c "'$bin/era_dump' --compact '$meta' > /dev/null"
    for since in 0 50 98; do
        measure "era_invalidate --written-since $since" sh -c "'$bin/era_invalidate' --written-since $since '$meta' > /dev/null"
    done
    cp --sparse=always "$meta" "$work/restored-$n.img"
    measure "era_restore (verbose dump)" "$bin/era_restore" -q -i "$work/dump-$n.xml" -o "$work/restored-$n.img"
    measure "era_restore (logical dump)" "$bin/era_restore" -q -i "$work/logical-$n.xml" -o "$work/restored-$n.img"
    rm -f "$work/dump-$n.xml" "$work/logical-$n.xml" "$work/restored-$n.img"
done
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
