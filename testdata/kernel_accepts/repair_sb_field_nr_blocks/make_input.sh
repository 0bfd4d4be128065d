# era_repair of a kernel image whose superblock says nr_blocks 1024 (really 5459) under a valid
# checksum.  damaged.img.gz: the outside campaign's rand_23_22_sb_field_17474.img
# (/work/shared/repro/outside-3/repair, R2: bs 24, 131000-sector table, era 9, 4 MiB).
# Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
D=$(dirname "$0")
zcat "$D/damaged.img.gz" > "$1/damaged.img"
truncate -s 4M "$1/meta_in.img"
"$B/era_repair" -i "$1/damaged.img" -o "$1/meta_in.img"
