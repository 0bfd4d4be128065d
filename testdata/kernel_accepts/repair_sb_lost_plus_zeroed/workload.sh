#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens what era_repair rebuilt from an image without superblock nor era-array
# block 21: a rebuilt superblock at era 8, origin blocks 13234..14252 at era 8.
era_create 8
wb 0 13233 13234 14000 14252 14253   # E+1
checkpoint
wb 1 13500 16383
take_snap
wb 2 14251
drop_snap
wb 3
suspend_resume
wb 13234 4
era_remove
