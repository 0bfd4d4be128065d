#@ META_MB=4
#@ ORIGIN_MB=64
#@ TIMEOUT=600
# A backup job's loop on a LIVE era target, many times over: write, checkpoint, take the
# metadata snapshot, read it with era_invalidate, era_dump and era_check, drop it. Every
# read must answer from the metadata the kernel just wrote, never from cached pages of
# an earlier cycle. Then the target is removed and the live metadata is read as well.
# Needs the tools in the guest:
#   GUEST_BINS="era_invalidate era_dump era_check" run.sh snapshot_cycles.sh OUTDIR
era_create 8
want=""
for cycle in 1 2 3 4 5 6 7 8; do
    b=$((cycle * 100))
    wb $b $((b + 1))
    era_written=$ERA
    want="$want <range begin=\"$b\" end=\"$((b + 2))\"/>"
    checkpoint
    take_snap
    got=$(era_invalidate --metadata-snapshot --written-since 1 $META_DEV 2>&1 | tr -s ' \n' ' ')
    echo "@@READ $cycle invalidate $got"
    [ "$got" = "<blocks>$want </blocks>" ] || fail "cycle $cycle: stale or wrong invalidate: $got"
    line=$(era_dump --metadata-snapshot --logical $META_DEV 2>&1 | grep "<era block=\"$b\" ")
    echo "@@READ $cycle dump $line"
    [ "$line" = "    <era block=\"$b\" era=\"$era_written\"/>" ] || fail "cycle $cycle: stale or wrong dump: $line"
    out=$(era_check --metadata-snapshot $META_DEV 2>&1) || fail "cycle $cycle: era_check on the snapshot: $out"
    echo "@@READ $cycle check ok"
    drop_snap
done
era_remove
got=$(era_invalidate --written-since 1 $META_DEV 2>&1 | tr -s ' \n' ' ')
echo "@@READ removed invalidate $got"
[ "$got" = "<blocks>$want </blocks>" ] || fail "after remove: stale or wrong invalidate: $got"
out=$(era_check $META_DEV 2>&1) || fail "after remove: era_check: $out"
echo "@@READ removed check ok"
