#@ META_MB=4
#@ ORIGIN_MB=128
# The kernel opens the restored checkpoints image (16384 blocks) with a table twice as
# long: it resizes the era array to 32768 blocks at the open.  Then it shrinks it back.
era_create 8 262144
wb 0 16384 32767               # era 6
checkpoint
wb 20000 1                     # era 7
era_reload 131072
wb 4 16383                     # era 8 (the reload's suspend+resume: +1)
era_remove
