#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens what era_repair made of an image whose era-array block 21 (origin blocks
# 13234..14252) was zeroed: those blocks got the current era 7; era 8 after the open.
era_create 8
wb 0 13233 13234 14000 14252 14253   # E+1, at and inside the rebuilt array block's edges
checkpoint
wb 1 13500 16383
take_snap
wb 2 14251
drop_snap
wb 3
suspend_resume
wb 13234 4
era_remove
