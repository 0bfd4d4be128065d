#@ META_MB=4
#@ ORIGIN_MB=128
# The kernel opens metadata that era_emulate grew from 16384 to 32768 blocks, then
# shrinks it to 24576 blocks with a reload.
era_create 8 262144
wb 0 16384 32767               # E+1
checkpoint
wb 20000 24575 24576
era_reload 196608
wb 1 24575
era_remove
