# era_repair of a kernel image whose era-array index lists one array block twice (at
# indices 2 and 5).  damaged.img.gz: the outside campaign's long_history_dup_ref_9973.img
# (/work/shared/repro/outside-3/repair, R6: bs 8, 16384 blocks, era 301, 16 MiB).
# Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
D=$(dirname "$0")
zcat "$D/damaged.img.gz" > "$1/damaged.img"
truncate -s 16M "$1/meta_in.img"
"$B/era_repair" -i "$1/damaged.img" -o "$1/meta_in.img"
