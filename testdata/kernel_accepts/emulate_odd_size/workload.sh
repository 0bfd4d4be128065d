#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens era_emulate metadata of block size 24 over a 131000-sector table
# (5459 blocks, the last one partial).
era_create 24 131000
wb 1 5458                      # E+1
wsect 130995 5                 # the partial last block again
checkpoint
wb 0 2
era_remove
