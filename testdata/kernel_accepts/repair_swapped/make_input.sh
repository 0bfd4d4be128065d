# era_repair of a kernel image with two blocks swapped, the superblock one of them, their
# self block numbers fixed so both pass their checksums.  damaged.img.gz: the outside
# campaign's crash_mid_digest_swap_fix_2538.img (/work/shared/repro/outside-3/repair, R4: the
# kernel's image of a crash in the middle of a digest, bs 8, 1048576 blocks, 32 MiB); era_repair
# rebuilds the superblock from a scan.
# Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
D=$(dirname "$0")
zcat "$D/damaged.img.gz" > "$1/damaged.img"
truncate -s 32M "$1/meta_in.img"
"$B/era_repair" -i "$1/damaged.img" -o "$1/meta_in.img"
