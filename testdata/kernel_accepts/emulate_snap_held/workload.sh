#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens metadata written by era_emulate with a metadata snapshot still held;
# it drops that snapshot (freeing what only the snapshot referenced), takes its own, drops it.
era_create 8
wb 0 3 100                     # E+1
checkpoint
wb 3 16000
drop_snap
wb 4
take_snap
wb 5
drop_snap
era_remove
