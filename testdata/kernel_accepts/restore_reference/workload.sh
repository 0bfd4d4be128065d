#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens metadata that era_restore wrote from the checkpoints reference dump
# (era 5, writeset of era 5 in the tree): era 6 after the open.
era_create 8
wb 0 7 100 1017 1018           # era 6
checkpoint
wb 1 7 16383                   # era 7
take_snap
wb 2 5000                      # era 8
drop_snap
wb 3                           # still era 8 (a drop does not roll over)
era_remove
