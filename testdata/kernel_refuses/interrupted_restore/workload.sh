#@ META_MB=4
#@ ORIGIN_MB=64
# interrupted_restore: block 0 of the metadata holds the marker an interrupted era_restore
# leaves (the ASCII tag "era_restore: interrupted", NUL, then zeros: not all zeros, not a
# valid superblock). The kernel must refuse to create the era device, and must not format
# the metadata (block 0 unchanged). Outcomes are @@MARKER lines; the workload always ends
# with rc 0 so that the log is kept.
block0() { dd if="$META_DEV" bs=4096 count=1 2>/dev/null | hexdump -C; }
block0 | sed 's/^/@@BLOCK0_BEFORE /'
before=$(block0)
len=$(blockdev --getsz "$ORIGIN_DEV")
out=$(dmsetup create "$NAME" --table "0 $len era $META_DEV $ORIGIN_DEV 8" 2>&1)
rc=$?
echo "$out" | sed 's/^/@@NOTE dmsetup create: /'
if [ "$rc" -eq 0 ]; then
    echo "@@MARKER create_succeeded"
    dmsetup status "$NAME" 2>&1 | sed 's/^/@@NOTE status: /'
    dmsetup remove "$NAME"
else
    echo "@@MARKER create_failed rc=$rc"
fi
sync
after=$(block0)
block0 | sed 's/^/@@BLOCK0_AFTER /'
if [ "$before" = "$after" ]; then
    echo "@@MARKER block0_unchanged"
else
    echo "@@MARKER block0_changed"
fi
