#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens a crashed era_emulate image that also holds a metadata snapshot; it
# archives the live writeset, keeps the snapshot, writes, checkpoints, removes.
era_create 8
wb 0 7                         # E+1
checkpoint
wb 8
era_remove
