# era_restore of the kernel's checkpoints reference dump (16384 blocks, bs 8, era 5)
# into a zeroed 4 MiB image.  Usage: make_input.sh OUTDIR (from the repository root).
set -euo pipefail
B=${ERA_BIN:-target/release}
zcat testdata/kernel/checkpoints/reference_dump.xml.gz > "$1/in.xml"
truncate -s 4M "$1/meta_in.img"
"$B/era_restore" -q -i "$1/in.xml" -o "$1/meta_in.img"
