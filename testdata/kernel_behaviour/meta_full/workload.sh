#@ META_MB=1
#@ ORIGIN_MB=800
# meta_full: a 256-block metadata device under an origin of 204,800 blocks (an era
# array of 202 array blocks). One write in every array block, then a checkpoint: the
# digest must copy every array block and runs out of metadata space part-way
# ("digest step failed, stopping digestion"). The failed step's copies stay in the
# kernel's open transaction, so every later commit fails too: status says Error, a
# write and a checkpoint fail, and the image keeps the checkpoint's commit.
era_create 8
b=0
while [ $b -lt 204800 ]; do wb $b; b=$((b + 1018)); done
era_status written
checkpoint
sleep 20
echo "@@STATUS after_digest $(dmsetup status "$NAME")"
if dd if=/dev/zero of="$DEV" bs=512 count=8 seek=40 oflag=direct conv=notrunc 2>/dev/null; then
    echo "@@NOTE write of block 5 succeeded"
else
    echo "@@NOTE write of block 5 failed"
fi
echo "@@STATUS after_write $(dmsetup status "$NAME")"
if dmsetup message "$NAME" 0 checkpoint 2>/dev/null; then
    echo "@@NOTE checkpoint succeeded"
else
    echo "@@NOTE checkpoint failed"
fi
echo "@@STATUS after_checkpoint_2 $(dmsetup status "$NAME")"
dmsetup remove "$NAME" || fail "dmsetup remove"
echo "@@REMOVE $NAME -"
