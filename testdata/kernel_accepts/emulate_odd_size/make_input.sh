# era_emulate with bs 24 (not a power of two) and a 131000-sector table (5459 blocks, the
# last one partial): writes (one into the partial last block), a discard, checkpoints, close.
set -euo pipefail
B=${ERA_BIN:-target/release}
truncate -s 4M "$1/meta_in.img"
truncate -s $((131000 * 512)) "$1/origin.img"
"$B/era_emulate" run --meta "$1/meta_in.img" --origin "$1/origin.img" --block-size 24 <<'SCRIPT'
write 0 24
write 130992 8
checkpoint
write 48 30
discard 2400 48
checkpoint
write 130990 10
close
SCRIPT
