# era_emulate serve (bs 8, 64 MiB origin = 16384 blocks) on a zeroed 4 MiB image, written by
# qemu-io over NBD: writes in era 1, `era_emulate message checkpoint`, then one qemu-io with
# 3000 scattered 4 KiB aio writes in flight; once 200 of them are acknowledged the server
# gets kill -9 (the live current writeset of era 2 stays in the superblock). Every
# acknowledged write must be marked in it.
set -euo pipefail
B=${ERA_BIN:-target/release}
truncate -s 4M "$1/meta_in.img"
truncate -s 64M "$1/origin.img"
S=$1/nbd.sock
U="nbd+unix:///?socket=$S"
"$B/era_emulate" serve --meta "$1/meta_in.img" --origin "$1/origin.img" --block-size 8 \
    --socket "$S" &
pid=$!
for _ in $(seq 200); do [[ -S $S && -S $S.ctl ]] && break; sleep 0.05; done
[[ -S $S && -S $S.ctl ]] || { echo "the server did not start" >&2; exit 1; }
qemu-io -f raw -c "write -P 1 0 16k" -c "write -P 2 $((8000 * 4096)) 4k" "$U" >/dev/null
"$B/era_emulate" message --socket "$S" checkpoint
# block (i * 5 + 7) mod 16384 for i < 3000: distinct blocks, scattered over the device
a=()
for i in $(seq 0 2999); do a+=(-c "aio_write -P 3 $(((i * 5 + 7) % 16384 * 4096)) 4k"); done
: > "$1/acked.txt"
qemu-io -f raw "${a[@]}" -c aio_flush "$U" > "$1/acked.txt" 2>/dev/null &
client=$!
until [[ $(grep -c '^wrote' "$1/acked.txt") -ge 200 ]]; do
    kill -0 "$client" 2>/dev/null || break
    sleep 0.005
done
kill -KILL "$pid"
wait "$pid" || true
wait "$client" || true
n=$(grep -c '^wrote' "$1/acked.txt")
echo "make_input: $n writes acknowledged before kill -9" >&2
# every acknowledged write is marked in era 2 (the live writeset)
"$B/era_invalidate" --written-since 2 "$1/meta_in.img" > "$1/since2.xml"
python3 - "$1/acked.txt" "$1/since2.xml" <<'CHECK'
import re, sys
log = open(sys.argv[1]).read()
acked = {int(m) // 4096 for m in re.findall(r"^wrote \d+/\d+ bytes at offset (\d+)$", log, re.M)}
x = open(sys.argv[2]).read()
marked = {int(b) for b in re.findall(r'<block block="(\d+)"/>', x)}
for b, e in re.findall(r'<range begin="(\d+)" end="(\d+)"/>', x):
    marked.update(range(int(b), int(e)))
missing = sorted(acked - marked)
assert not missing, f"acknowledged but not marked: {missing[:10]}"
print(f"make_input: all {len(acked)} acknowledged blocks are marked ({len(marked)} marked)", file=sys.stderr)
CHECK
