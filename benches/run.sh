#!/usr/bin/env bash
# Benchmark suite for the era tools (run by hand, not by CI).
#
#   benches/run.sh [SHAPE...]      # default: sparse-1m sparse-16m
#
# Shapes (every image: block size 128, seed 1, random era array below the first
# writeset's era; era_generate --help):
#   sparse-1m    1,048,576 blocks, current era 100, 4 writesets, density 0.10
#   sparse-16m  16,777,216 blocks, current era 100, 4 writesets, density 0.10
#   sparse-64m  67,108,864 blocks, current era 100, 4 writesets, density 0.10
#   dense-1m     1,000,000 blocks, current era 100, 4 writesets, density 0.12
#   dense-16m   16,000,000 blocks, current era 100, 4 writesets, density 0.12 (issue 10)
#   dense-64m   64,000,000 blocks, current era 100, 4 writesets, density 0.12
#   half-16m    16,000,000 blocks, current era 100, 4 writesets, density 0.50
#   ws300-16m   16,000,000 blocks, current era 400, 300 writesets, density 0.10
#
# BENCH_TOOLS=invalidate times era_invalidate only (the default, all, times every tool).
# BENCH_REFERENCE=0 skips thin-provisioning-tools; otherwise its era_* in /usr/sbin
# (Debian's 0.9.0, or whatever is installed there) are timed beside ours on the same
# file. BENCH_DIR=DIR keeps the generated files.
#
# Every row: wall seconds, CPU seconds (user + system) and peak resident memory, from
# /usr/bin/time, one run each (run twice and take the figures of the second to have the
# file in the page cache). The "floor" rows are the cost of reading the metadata file
# once and of writing as many bytes as the verbose dump produces.
set -euo pipefail
cd "$(dirname "$0")/.."

shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(sparse-1m sparse-16m)
tools=${BENCH_TOOLS:-all}
work=${BENCH_DIR:-$(mktemp -d /tmp/era-bench.XXXXXX)}
bin=target/release
ref=/usr/sbin
if [ "${BENCH_REFERENCE:-1}" = 0 ] || [ ! -x "$ref/era_invalidate" ]; then ref=; fi

cargo build --release --quiet
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

shape_args() { # shape -> nr_blocks current_era nr_writesets density
    case $1 in
        sparse-1m) echo 1048576 100 4 0.1 ;;
        sparse-16m) echo 16777216 100 4 0.1 ;;
        sparse-64m) echo 67108864 100 4 0.1 ;;
        dense-1m) echo 1000000 100 4 0.12 ;;
        dense-16m) echo 16000000 100 4 0.12 ;;
        dense-64m) echo 64000000 100 4 0.12 ;;
        half-16m) echo 16000000 100 4 0.5 ;;
        ws300-16m) echo 16000000 400 300 0.1 ;;
        *) echo "unknown shape $1" >&2; return 1 ;;
    esac
}

measure() { # label, command...
    local label=$1; shift
    local t; t=$(mktemp)
    local rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >/dev/null 2>"$t.err" || rc=$?
    [ "$rc" = 0 ] || label="$label (FAILED, exit $rc: $(head -c 120 "$t.err" | tr '\n|' '  '))"
    rm -f "$t.err"
    read -r wall user sys rss < <(tail -n 1 "$t")
    rm -f "$t"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "| %s | %s | %.2f | %.1f |\n", l, w, u + s, r / 1024 }'
}

# Times one of our tools, then the reference's of the same name where installed.
both() { # label, tool, args... (output to /dev/null)
    local label=$1 tool=$2; shift 2
    measure "$label" sh -c "\"\$0\" \"\$@\" > /dev/null" "$bin/$tool" "$@"
    [ -z "$ref" ] || measure "$label (tpt $ref)" sh -c "\"\$0\" \"\$@\" > /dev/null" "$ref/$tool" "$@"
}

for shape in "${shapes[@]}"; do
    read -r n era nws density < <(shape_args "$shape")
    meta=$work/meta-$shape.img
    echo
    echo "### $shape: $n origin blocks, current era $era, $nws writesets of density $density"
    echo
    [ -f "$meta" ] || "$bin/era_generate" --nr-blocks "$n" --block-size 128 --current-era "$era" \
        --nr-writesets "$nws" --density "$density" --seed 1 -o "$meta"
    echo "metadata image: $(du -h --apparent-size "$meta" | cut -f1) ($(du -h "$meta" | cut -f1) allocated)"
    echo
    echo "| command | wall s | CPU s | peak RSS MiB |"
    echo "|---|---|---|---|"
    measure "floor: cat metadata > /dev/null" sh -c "cat '$meta' > /dev/null"
    if [ "$tools" = all ]; then
        both "era_check" era_check "$meta"
        both "era_dump > /dev/null" era_dump "$meta"
        measure "era_dump -o file" "$bin/era_dump" -o "$work/dump-$shape.xml" "$meta"
        bytes=$(stat -c %s "$work/dump-$shape.xml")
        measure "floor: write $bytes bytes" sh -c "head -c $bytes /dev/zero > '$work/floor-$shape'"
        rm -f "$work/floor-$shape"
        measure "era_dump --logical > /dev/null" sh -c "'$bin/era_dump' --logical '$meta' > /dev/null"
        measure "era_dump --logical -o file" "$bin/era_dump" --logical -o "$work/logical-$shape.xml" "$meta"
        measure "era_dump --compact > /dev/null" sh -c "'$bin/era_dump' --compact '$meta' > /dev/null"
    fi
    for since in 0 50 $((era - 2)); do
        both "era_invalidate --written-since $since" era_invalidate --written-since "$since" "$meta"
    done
    if [ "$tools" = all ]; then
        for fmt in ranges json; do
            measure "era_invalidate --written-since 50 --format $fmt" \
                sh -c "'$bin/era_invalidate' --written-since 50 --format $fmt '$meta' > /dev/null"
        done
        cp --sparse=always "$meta" "$work/restored-$shape.img"
        measure "era_restore (verbose dump)" "$bin/era_restore" -q -i "$work/dump-$shape.xml" -o "$work/restored-$shape.img"
        [ -z "$ref" ] || measure "era_restore (verbose dump) (tpt $ref)" "$ref/era_restore" -q -i "$work/dump-$shape.xml" -o "$work/restored-$shape.img"
        measure "era_restore (logical dump)" "$bin/era_restore" -q -i "$work/logical-$shape.xml" -o "$work/restored-$shape.img"
        rm -f "$work/dump-$shape.xml" "$work/logical-$shape.xml" "$work/restored-$shape.img"
    fi
done
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
