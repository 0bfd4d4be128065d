#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens metadata that era_emulate serve left after kill -9 with writes in flight
# (live current writeset of era 2 in the superblock): it archives that writeset and
# continues at era + 1; writes, checkpoints, takes and drops a snapshot, removes.
era_create 8
wb 0 7 12 5000                 # E+1
checkpoint
wb 12 16383
take_snap
wb 13
drop_snap
era_remove
