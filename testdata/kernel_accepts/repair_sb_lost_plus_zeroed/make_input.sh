# era_repair of a kernel image with the superblock and one era-array block zeroed.
# damaged.img.gz: the outside campaign's discard_sb_and_one_era_array_block.img
# (/work/shared/repro/outside-3/repair, R1: the kernel's discard case, bs 8, 16384 blocks,
# era 7, 4 MiB; blocks 0 and 21 zeroed).  The data block size must be given.
# Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
D=$(dirname "$0")
zcat "$D/damaged.img.gz" > "$1/damaged.img"
truncate -s 4M "$1/meta_in.img"
"$B/era_repair" -i "$1/damaged.img" -o "$1/meta_in.img" --data-block-size 8
