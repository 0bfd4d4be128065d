# era_repair of a kernel image with one era-array block zeroed, the superblock intact.
# undamaged.img.gz: the outside campaign's discard.orig.img (/work/shared/repro/outside-3/repair:
# the kernel's discard case, bs 8, 16384 blocks, era 7, 4 MiB); block 21 is the era-array block
# of origin blocks 13234..14252 (the block discard_sb_and_one_era_array_block zeroes).
# Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
D=$(dirname "$0")
zcat "$D/undamaged.img.gz" > "$1/damaged.img"
dd if=/dev/zero of="$1/damaged.img" bs=4096 seek=21 count=1 conv=notrunc status=none
truncate -s 4M "$1/meta_in.img"
"$B/era_repair" -i "$1/damaged.img" -o "$1/meta_in.img"
