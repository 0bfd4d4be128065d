#@ META_MB=4
#@ ORIGIN_MB=16
#@ TIMEOUT=1800
# era_copy against a LIVE dm-era target of the real kernel, as a backup job runs it:
# writes of random data, checkpoint, take_metadata_snap, the target suspended while
# era_copy --metadata-snapshot copies from the origin device into a backup file, resume,
# drop_metadata_snap; the backup must equal the origin (read with O_DIRECT through the
# era device) after every increment. Then a source with a failing block (a dm error
# target spliced into a linear map of the origin): without --keep-going the copy stops
# naming the block; with it the rest is copied, the block is listed, exit 1.
# Needs: GUEST_BINS="path/to/era_copy" ./run.sh live/copy_chain.sh OUTDIR
era_create 8
BK=/tmp/backup.img
ST=/tmp/backup.state

wr() { # BLOCK...: 4 KiB of random data into each
    local b
    for b in "$@"; do
        dd if=/dev/urandom of="$DEV" bs=4096 count=1 seek="$b" oflag=direct conv=notrunc 2>/dev/null \
            || fail "write $b"
    done
}

same() { # WHAT: the backup equals the origin as the era device reads it (the writes go
    # through the same device with O_DIRECT, which drops its cached pages)
    dd if="$DEV" of=/tmp/now bs=65536 2>/dev/null || fail "read $DEV"
    cmp /tmp/now "$BK" || fail "backup differs: $1"
    rm -f /tmp/now
}

increment() { # SINCE: one backup run; sets NEXT
    local out
    checkpoint
    take_snap
    dmsetup suspend "$NAME" || fail "suspend"
    out=$(era_copy --metadata "$META_DEV" --metadata-snapshot --written-since "$1" \
        --source "$ORIGIN_DEV" --dest "$BK" --state "$ST" --verify --report json \
        --buffer-size 4M 2>&1) || fail "era_copy since $1: $out"
    dmsetup resume "$NAME" || fail "resume"
    drop_snap
    NEXT=$(echo "$out" | sed -n 's/.*"next_written_since": *\([0-9]*\).*/\1/p')
    [ -n "$NEXT" ] || fail "no next era in: $out"
    echo "@@COPY since=$1 next=$NEXT $(echo "$out" | grep -E '"blocks"|"bytes"' | tr -d ' \n')"
}

wr 0 1 2 100 2000 4095
increment 0
same "full"
N=$NEXT
for round in 1 2 3 4 5; do
    wr $((round * 7)) $((round * 300 + 1)) $((round * 300 + 2)) $((4000 + round))
    increment "$N"
    same "increment $round"
    N=$NEXT
done

# A failing source: block 5 of a linear map of the origin is an error target.
wr 5 6 7
checkpoint
take_snap
dmsetup suspend "$NAME" || fail "suspend"
sz=$(blockdev --getsz "$ORIGIN_DEV")
printf '0 40 linear %s 0\n40 8 error\n48 %s linear %s 48\n' "$ORIGIN_DEV" $((sz - 48)) "$ORIGIN_DEV" \
    | dmsetup create flaky || fail "dmsetup create flaky"
rc=0
out=$(era_copy --metadata "$META_DEV" --metadata-snapshot --written-since "$N" \
    --source /dev/mapper/flaky --dest /tmp/flaky.img --buffer-size 4M 2>&1) || rc=$?
echo "@@STOP rc=$rc $out"
[ $rc -eq 1 ] || fail "a read error did not fail the copy (rc $rc)"
echo "$out" | grep -q "read error at block 5 " || fail "the read error does not name block 5: $out"
rc=0
out=$(era_copy --metadata "$META_DEV" --metadata-snapshot --written-since "$N" \
    --source /dev/mapper/flaky --dest /tmp/flaky.img --keep-going --report json \
    --buffer-size 4M 2>&1) || rc=$?
echo "@@KEEPGOING rc=$rc $(echo "$out" | tr -d ' \n')"
[ $rc -eq 1 ] || fail "--keep-going with a failed range did not exit 1 (rc $rc)"
echo "$out" | grep -q "could not read block 5 (bytes 20480..24576" || fail "block 5 not listed: $out"
dmsetup remove flaky || fail "remove flaky"
dmsetup resume "$NAME" || fail "resume"
# Blocks 6 and 7 were copied around it (read once the target runs again).
dd if="$DEV" of=/tmp/want bs=4096 skip=6 count=2 2>/dev/null || fail "read blocks 6-7"
dd if=/tmp/flaky.img of=/tmp/got bs=4096 skip=6 count=2 2>/dev/null || fail "read the copy"
cmp /tmp/got /tmp/want || fail "blocks 6-7 not copied"
drop_snap
echo "@@READ done"
era_remove
