#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens metadata that era_emulate serve left after SIGTERM (clients wrote over
# NBD across three eras), writes, checkpoints, takes and drops a snapshot, removes.
era_create 8
wb 0 2 64 4000                 # E+1
checkpoint
wb 3 16383
take_snap
wb 5
drop_snap
era_remove
