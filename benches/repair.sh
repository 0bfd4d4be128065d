#!/usr/bin/env bash
# Peak memory and wall time of the salvage (run by hand, not by CI):
#
#   benches/repair.sh BIN_DIR [SHAPE...]     # default: 16m 64m 256m 64m-zeroed
#
# Shapes (era_generate: block size 128, seed 1, current era 100, 4 writesets of
# density 0.10, a random era array below the first writeset's era):
#   16m          16,777,216 origin blocks
#   64m          67,108,864 origin blocks
#   256m        268,435,456 origin blocks (1.1 GB of metadata)
#   SIZE-zeroed  SIZE (64m or 256m) with its 1000th era-array block zeroed: era_check
#                finds errors, so the salvage takes the damaged path (losses, a scan of
#                the device, the floor raised from every version found)
#   SIZE-bitset  SIZE with its 1000th bitset array block zeroed (a writeset's bits lost:
#                the floor raises a range of blocks to its era)
#   SIZE-sb      SIZE with its superblock zeroed: rebuilt from a scan of the device
#                (run with --data-block-size 128)
#
# Each row: era_repair into a fresh sparse image of the input's size, and
# era_dump --repair --compact to /dev/null, one run each under /usr/bin/time -v
# (wall seconds, peak RSS). BENCH_DIR keeps (and reuses) the generated images;
# BENCH_LOCK=FILE runs each row under `flock FILE`.
set -euo pipefail
bin=${1:?usage: benches/repair.sh BIN_DIR [SHAPE...]}
shift
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(16m 64m 256m 64m-zeroed)
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"

blocks() {
    case $1 in
    16m) echo 16777216 ;;
    64m | 64m-*) echo 67108864 ;;
    256m | 256m-*) echo 268435456 ;;
    *) echo "unknown shape $1" >&2; exit 2 ;;
    esac
}

# Zeroes the 1000th array block of VALUE_SIZE-byte values (4: era array, max_entries
# 1018; 8: bitset, 509) of image $1.
zero_array_block() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
path, want = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    seen, b = 0, 0
    while True:
        head = f.read(4096)
        if len(head) < 4096:
            sys.exit(f"no 1000th array block of {want}-byte values")
        _, mx, _, vs = struct.unpack_from("<IIII", head, 0)
        if vs == want and mx == (4080 // want):
            seen += 1
            if seen == 1000:
                f.seek(b * 4096)
                f.write(bytes(4096))
                print(f"zeroed array block of {want}-byte values at metadata block {b}")
                break
        b += 1
PY
}

measure() { # label, command...
    local label=$1 t
    shift
    t=$(mktemp)
    if [ -n "${BENCH_LOCK:-}" ]; then
        flock "$BENCH_LOCK" /usr/bin/time -v "$@" >/dev/null 2>"$t" || true
    else
        /usr/bin/time -v "$@" >/dev/null 2>"$t" || true
    fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$t")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$t")
    echo "| $label | $wall | $rss |"
    rm -f "$t"
}

echo "| command | wall (m:ss) | peak RSS MiB |"
echo "|---|---|---|"
for shape in "${shapes[@]}"; do
    n=$(blocks "$shape")
    meta=$work/repair-$shape.img
    size=${shape%%-*}
    if [ ! -f "$meta" ]; then
        base=$work/repair-$size.img
        [ -f "$base" ] || "$bin/era_generate" --nr-blocks "$n" --block-size 128 --current-era 100 \
            --nr-writesets 4 --density 0.10 --seed 1 -o "$base" >/dev/null
        if [ "$shape" != "$size" ]; then
            cp --sparse=always "$base" "$meta"
            case ${shape#"$size"-} in
            zeroed) zero_array_block "$meta" 4 >&2 ;;
            bitset) zero_array_block "$meta" 8 >&2 ;;
            sb) dd if=/dev/zero of="$meta" bs=4096 count=1 conv=notrunc status=none ;;
            *) echo "unknown shape $shape" >&2; exit 2 ;;
            esac
        fi
    fi
    extra=()
    [ "${shape#"$size"-}" != sb ] || extra=(--data-block-size 128)
    out=$work/out-$shape.img
    rm -f "$out"
    truncate -s "$(stat -c %s "$meta")" "$out"
    cat "$meta" >/dev/null
    measure "$shape: era_repair" "$bin/era_repair" -q "${extra[@]}" -i "$meta" -o "$out"
    measure "$shape: era_dump --repair --compact" sh -c "'$bin/era_dump' --repair --compact ${extra[*]} '$meta' 2>/dev/null"
    rm -f "$out"
done
