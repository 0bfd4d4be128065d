#@ META_MB=32
#@ ORIGIN_MB=4096
#@ TIMEOUT=600
# The kernel opens what era_repair rebuilt from a crash-mid-digest image whose superblock was
# swapped with another block: 1048576 blocks of bs 8 (a 4 GiB sparse origin).
era_create 8
wb 0 1017 1018 500000 1048575  # E+1
checkpoint
wb 1 262144 1048574
take_snap
wb 2 700000
drop_snap
wb 3
suspend_resume
wb 1018 4
era_remove
