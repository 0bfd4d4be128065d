# era_emulate (bs 8, 64 MiB origin = 16384 blocks) on a zeroed 4 MiB image: writes over
# three eras, take_metadata_snap (left held), more writes, close.
set -euo pipefail
B=${ERA_BIN:-target/release}
truncate -s 4M "$1/meta_in.img"
truncate -s 64M "$1/origin.img"
"$B/era_emulate" run --meta "$1/meta_in.img" --origin "$1/origin.img" --block-size 8 <<'SCRIPT'
write 0 8
write 512 16
write 8136 16
checkpoint
write 8 8
write 131064 8
checkpoint
write 800 8
take_metadata_snap
write 16 8
write 0 8
status
close
SCRIPT
