# era_emulate serve (bs 8, 64 MiB origin = 16384 blocks) on a zeroed 4 MiB image, written by
# qemu-io over NBD: writes in era 1, `era_emulate message checkpoint`, writes in era 2 (one
# of them a 2-block write at a 64-block word edge), another checkpoint, a write in era 3,
# then SIGTERM: the server closes the target as `close` does.
set -euo pipefail
B=${ERA_BIN:-target/release}
truncate -s 4M "$1/meta_in.img"
truncate -s 64M "$1/origin.img"
S=$1/nbd.sock
"$B/era_emulate" serve --meta "$1/meta_in.img" --origin "$1/origin.img" --block-size 8 \
    --socket "$S" &
pid=$!
for _ in $(seq 200); do [[ -S $S && -S $S.ctl ]] && break; sleep 0.05; done
[[ -S $S && -S $S.ctl ]] || { echo "the server did not start" >&2; exit 1; }
w() { # w BLOCK...: one 4 KiB write at the start of each block, qemu-io over the socket
    local a=() b
    for b in "$@"; do a+=(-c "write -P $((b % 250 + 1)) $((b * 4096)) 4k"); done
    qemu-io -f raw "${a[@]}" "nbd+unix:///?socket=$S" >/dev/null
}
w 0 1 100 8000
"$B/era_emulate" message --socket "$S" checkpoint
w 1 2 16383
qemu-io -f raw -c "write -P 9 $((63 * 4096)) 8k" "nbd+unix:///?socket=$S" >/dev/null
"$B/era_emulate" message --socket "$S" checkpoint
w 100 3000
"$B/era_emulate" status --socket "$S"
kill -TERM "$pid"
wait "$pid"
