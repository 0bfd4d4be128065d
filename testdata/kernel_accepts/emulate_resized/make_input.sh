# era_emulate (bs 8) on a zeroed 4 MiB image: a 64 MiB table (16384 blocks) with writes,
# then `reload` to 128 MiB (32768 blocks) with more writes and a checkpoint, then close.
set -euo pipefail
B=${ERA_BIN:-target/release}
truncate -s 4M "$1/meta_in.img"
truncate -s 128M "$1/origin.img"
"$B/era_emulate" run --meta "$1/meta_in.img" --origin "$1/origin.img" --block-size 8 \
    --length 131072 <<'SCRIPT'
write 0 8
write 131064 8
checkpoint
write 8 8
reload 262144
write 131072 8
write 262136 8
checkpoint
write 16 8
status
close
SCRIPT
