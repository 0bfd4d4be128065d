# era_emulate (bs 8, 64 MiB origin) on a zeroed 4 MiB image: writes, take_metadata_snap
# (held), more writes, then `crash`: the image holds both a snapshot and a live writeset.
set -euo pipefail
B=${ERA_BIN:-target/release}
truncate -s 4M "$1/meta_in.img"
truncate -s 64M "$1/origin.img"
"$B/era_emulate" run --meta "$1/meta_in.img" --origin "$1/origin.img" --block-size 8 <<'SCRIPT'
write 0 8
write 8 8
checkpoint
write 16 8
take_metadata_snap
write 0 8
write 24 8
crash
SCRIPT
