# era_generate (600000 blocks, bs 8, era 9, 2 writesets at 1%) -> era_dump -> era_restore
# into a zeroed 72 MiB image (18432 blocks: two space-map bitmaps; the era array is a
# 2-level btree).  Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
"$B/era_generate" --nr-blocks 600000 --block-size 8 --current-era 9 --nr-writesets 2 \
    --density 0.01 --seed 3 -o "$1/gen.img"
"$B/era_dump" -o "$1/gen.xml" "$1/gen.img"
truncate -s 72M "$1/meta_in.img"
"$B/era_restore" -q -i "$1/gen.xml" -o "$1/meta_in.img"
