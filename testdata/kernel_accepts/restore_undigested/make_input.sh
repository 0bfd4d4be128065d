# era_dump --compact of the kernel's resize_shrink_undigested image (1048576 blocks, era 3;
# writeset of era 2 with nr_bits 2097152 and marked bits beyond nr_blocks, still in the
# tree) -> era_restore into a zeroed 16 MiB image.
set -euo pipefail
B=${ERA_BIN:-target/release}
zcat testdata/kernel/resize_shrink_undigested/meta.img.gz > "$1/src.img"
"$B/era_dump" --compact -o "$1/in.xml" "$1/src.img"
truncate -s 16M "$1/meta_in.img"
"$B/era_restore" -q -i "$1/in.xml" -o "$1/meta_in.img"
