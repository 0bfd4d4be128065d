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
#   dense-16m   16,000,000 blocks, current era 100, 4 writesets, density 0.12
#   dense-64m   64,000,000 blocks, current era 100, 4 writesets, density 0.12
#   dense-256m 256,000,000 blocks, current era 100, 4 writesets, density 0.12 (big)
#   half-16m    16,000,000 blocks, current era 100, 4 writesets, density 0.50
#   ws300-16m   16,000,000 blocks, current era 400, 300 writesets, density 0.10 (big)
#
# A big shape (dense-256m: 1.1 GB of metadata, a verbose dump of about 50 GB, a logical
# one of about 9.3 GB; ws300-16m: a verbose dump of 4.8 billion lines) writes no dump it does not need: it times era_check,
# era_invalidate, era_dump (verbose, --logical and --compact) to /dev/null, and
# era_restore from the logical dump, which it writes untimed (about 11 GB of disk in
# BENCH_DIR while it runs). The references are not timed on a big shape unless
# BENCH_REF_BIG=1 (tpt 0.9.0 would take about 15 minutes per dump and 12 GB for an
# era_invalidate; tpt 1.3.3 builds the whole metadata of a restore in memory).
#
# Environment:
#   BENCH_TOOLS=invalidate  times era_invalidate only (the default, all, times every tool)
#   BENCH_RUNS=N            runs per row (default 3): the row shows the median wall time,
#                           CPU time and peak RSS of the runs, and the min–max wall time
#   BENCH_ONCE_OVER=S       a row whose first run takes more than S seconds of wall time
#                           is not repeated (default 20; its "runs" column says 1)
#   BENCH_BIN=DIR           our era_* from DIR, not built (default: cargo build --release,
#                           then ${CARGO_TARGET_DIR:-target}/release)
#   BENCH_LOCK=FILE         the runs of each row (and the build) hold `flock FILE`, so that
#                           nothing sharing that lock (cargo builds) runs beside them
#   BENCH_REFERENCE=0       skips thin-provisioning-tools in /usr/sbin; otherwise its
#                           era_* there (Debian's 0.9.0) are timed beside ours, in rows
#                           marked "(tpt VERSION)", VERSION from its era_check -V
#   BENCH_TPT133=DIR        a second reference: era_* in DIR (thin-provisioning-tools
#                           1.3.3's pdata_tools with era_* symlinks), rows "(tpt 1.3.3)"
#   BENCH_DIR=DIR           keeps (and reuses) the generated files
# On a machine shared with builds, either BENCH_LOCK=/tmp/cargo.lock (one lock per row) or
# `BENCH_BIN=DIR flock /tmp/cargo.lock benches/run.sh ...` (one lock for the whole run).
# Note: tpt 1.2.0 to 1.3.3 print wrong eras in `era_dump --logical` of metadata with
# writesets (src/era/dump.rs collate_writeset steps 32 blocks per fixedbitset word, whose
# words are 64 bits since 1.2.0); the row times it anyway, the work is the same.
#
# Every row: wall seconds, CPU seconds (user + system) and peak resident memory, from
# /usr/bin/time, medians of BENCH_RUNS runs; the metadata is read once before the table
# so that it is in the page cache. The "floor" rows are the cost of reading the metadata
# file once and of writing as many bytes as the verbose dump produces. Restores write
# into a sparse file of 4 times the image's size (tpt 0.9.0 cannot restore into a copy of
# the image: it allocates more blocks than our era_generate's image has).
set -euo pipefail
cd "$(dirname "$0")/.."

shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(sparse-1m sparse-16m)
tools=${BENCH_TOOLS:-all}
nruns=${BENCH_RUNS:-3}
once_over=${BENCH_ONCE_OVER:-20}
work=${BENCH_DIR:-$(mktemp -d /tmp/era-bench.XXXXXX)}
mkdir -p "$work"
locker=()
[ -z "${BENCH_LOCK:-}" ] || locker=(flock "$BENCH_LOCK")
lock_fd=
[ -z "${BENCH_LOCK:-}" ] || exec {lock_fd}>>"$BENCH_LOCK"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ -n "${BENCH_BIN:-}" ]; then
    bin=$BENCH_BIN
else
    "${locker[@]}" cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-target}/release
fi

# References: directories holding era_*, and their labels.
ref_dirs=()
ref_labels=()
add_ref() { # dir
    local v
    v=$("$1/era_check" -V 2>/dev/null | head -n 1) || true
    ref_dirs+=("$1")
    ref_labels+=("tpt ${v##* }")
}
if [ "${BENCH_REFERENCE:-1}" != 0 ] && [ -x /usr/sbin/era_invalidate ]; then add_ref /usr/sbin; fi
if [ -n "${BENCH_TPT133:-}" ]; then
    [ -x "$BENCH_TPT133/era_invalidate" ] || { echo "BENCH_TPT133: no era_invalidate in $BENCH_TPT133" >&2; exit 1; }
    add_ref "$BENCH_TPT133"
fi

shape_args() { # shape -> nr_blocks current_era nr_writesets density size (full or big)
    case $1 in
        sparse-1m) echo 1048576 100 4 0.1 full ;;
        sparse-16m) echo 16777216 100 4 0.1 full ;;
        sparse-64m) echo 67108864 100 4 0.1 full ;;
        dense-1m) echo 1000000 100 4 0.12 full ;;
        dense-16m) echo 16000000 100 4 0.12 full ;;
        dense-64m) echo 64000000 100 4 0.12 full ;;
        dense-256m) echo 256000000 100 4 0.12 big ;;
        half-16m) echo 16000000 100 4 0.5 full ;;
        ws300-16m) echo 16000000 400 300 0.1 big ;;
        *) echo "unknown shape $1" >&2; return 1 ;;
    esac
}

median() { # numbers on stdin, one a line -> their median
    sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

measure() { # label, command...
    local label=$1; shift
    local t; t=$(mktemp)
    local runs=0 rc wall
    [ -z "$lock_fd" ] || flock "$lock_fd"
    while [ "$runs" -lt "$nruns" ]; do
        rc=0
        /usr/bin/time -f '%e %U %S %M' -o "$t.run" "$@" >/dev/null 2>"$t.err" || rc=$?
        runs=$((runs + 1))
        tail -n 1 "$t.run" >>"$t"
        if [ "$rc" != 0 ]; then
            label="$label (FAILED, exit $rc: $(head -c 120 "$t.err" | tr '\n|' '  '))"
            break
        fi
        wall=$(tail -n 1 "$t.run" | cut -d' ' -f1)
        if [ "$runs" = 1 ] && awk -v w="$wall" -v s="$once_over" 'BEGIN { exit !(w > s) }'; then break; fi
    done
    [ -z "$lock_fd" ] || flock -u "$lock_fd"
    rm -f "$t.run" "$t.err"
    local w lo hi cpu rss
    w=$(cut -d' ' -f1 "$t" | median)
    lo=$(cut -d' ' -f1 "$t" | sort -g | head -n 1)
    hi=$(cut -d' ' -f1 "$t" | sort -g | tail -n 1)
    cpu=$(awk '{ print $2 + $3 }' "$t" | median)
    rss=$(cut -d' ' -f4 "$t" | median)
    rm -f "$t"
    awk -v l="$label" -v n="$runs" -v w="$w" -v lo="$lo" -v hi="$hi" -v c="$cpu" -v r="$rss" \
        'BEGIN { printf "| %s | %d | %.2f | %.2f–%.2f | %.2f | %.1f |\n", l, n, w, lo, hi, c, r / 1024 }'
}

# Times one of our tools, then each reference's of the same name.
both() { # label, tool, args... (output to /dev/null)
    local label=$1 tool=$2 i; shift 2
    measure "$label" sh -c "\"\$0\" \"\$@\" > /dev/null" "$bin/$tool" "$@"
    [ "$refs_here" = 1 ] || return 0
    for i in "${!ref_dirs[@]}"; do
        measure "$label (${ref_labels[$i]})" sh -c "\"\$0\" \"\$@\" > /dev/null" "${ref_dirs[$i]}/$tool" "$@"
    done
}

# era_restore -i XML by ours and each reference, into a fresh sparse file each tool.
restore_all() { # label, xml, target, target bytes
    local label=$1 xml=$2 out=$3 bytes=$4 i
    rm -f "$out"; truncate -s "$bytes" "$out"
    measure "$label" "$bin/era_restore" -q -i "$xml" -o "$out"
    if [ "$refs_here" = 1 ]; then
        for i in "${!ref_dirs[@]}"; do
            rm -f "$out"; truncate -s "$bytes" "$out"
            measure "$label (${ref_labels[$i]})" "${ref_dirs[$i]}/era_restore" -q -i "$xml" -o "$out"
        done
    fi
    rm -f "$out"
}

for shape in "${shapes[@]}"; do
    read -r n era nws density size < <(shape_args "$shape")
    meta=$work/meta-$shape.img
    refs_here=0
    if [ ${#ref_dirs[@]} -gt 0 ] && { [ "$size" = full ] || [ "${BENCH_REF_BIG:-0}" = 1 ]; }; then refs_here=1; fi
    echo
    echo "### $shape: $n origin blocks, current era $era, $nws writesets of density $density"
    echo
    [ -f "$meta" ] || "$bin/era_generate" --nr-blocks "$n" --block-size 128 --current-era "$era" \
        --nr-writesets "$nws" --density "$density" --seed 1 -o "$meta"
    meta_bytes=$(stat -L -c %s "$meta")
    echo "metadata image: $(du -hL --apparent-size "$meta" | cut -f1) ($(du -hL "$meta" | cut -f1) allocated)"
    echo "runs per row: $nruns (1 where the first run took more than $once_over s)"
    [ "$refs_here" = 1 ] || [ ${#ref_dirs[@]} = 0 ] || echo "references not timed on this big shape (BENCH_REF_BIG=1 to time them)"
    echo
    echo "| command | runs | wall s | wall min–max | CPU s | peak RSS MiB |"
    echo "|---|---|---|---|---|---|"
    cat "$meta" >/dev/null
    measure "floor: cat metadata > /dev/null" sh -c "cat '$meta' > /dev/null"
    dump=$work/dump-$shape.xml logical=$work/logical-$shape.xml
    if [ "$tools" = all ]; then
        both "era_check" era_check "$meta"
        both "era_dump > /dev/null" era_dump "$meta"
        both "era_dump --logical > /dev/null" era_dump --logical "$meta"
        measure "era_dump --compact > /dev/null" sh -c "'$bin/era_dump' --compact '$meta' > /dev/null"
        # rm first: never write through a symlink into someone else's file.
        rm -f "$dump" "$logical"
        if [ "$size" = full ]; then
            measure "era_dump -o file" "$bin/era_dump" -o "$dump" "$meta"
            bytes=$(stat -c %s "$dump")
            measure "floor: write $bytes bytes" sh -c "rm -f '$work/floor-$shape'; head -c $bytes /dev/zero > '$work/floor-$shape'"
            rm -f "$work/floor-$shape"
            measure "era_dump --logical -o file" "$bin/era_dump" --logical -o "$logical" "$meta"
        else
            "$bin/era_dump" --logical -o "$logical" "$meta"
        fi
    fi
    for since in 0 50 $((era - 2)); do
        both "era_invalidate --written-since $since" era_invalidate --written-since "$since" "$meta"
    done
    if [ "$tools" = all ]; then
        for fmt in ranges json; do
            measure "era_invalidate --written-since 50 --format $fmt" \
                sh -c "'$bin/era_invalidate' --written-since 50 --format $fmt '$meta' > /dev/null"
        done
        target=$work/restored-$shape.img
        if [ "$size" = full ]; then
            restore_all "era_restore (verbose dump)" "$dump" "$target" $((4 * meta_bytes))
        fi
        restore_all "era_restore (logical dump)" "$logical" "$target" $((4 * meta_bytes))
        rm -f "$dump" "$logical"
    fi
done
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
