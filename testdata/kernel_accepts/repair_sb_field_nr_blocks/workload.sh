#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens what era_repair made of a superblock that claimed 1024 blocks, over the
# device's real 131000-sector table at bs 24 (5459 blocks, the last partial).
era_create 24 131000
wb 0 1023 1024 5000 5458      # E+1: both sides of the lying nr_blocks, the partial last block
checkpoint
wb 1 1025 4000
take_snap
wb 2 5457
drop_snap
wb 3
suspend_resume
wb 1024 5458
era_remove
