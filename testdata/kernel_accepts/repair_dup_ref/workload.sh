#@ META_MB=16
#@ ORIGIN_MB=64
# The kernel opens what era_repair made of an era array whose index listed one block twice:
# origin blocks 2036..3054 and 5090..6108 got the current era 301; era 302 after the open.
era_create 8
wb 0 2035 2036 3054 3055 5090 6108   # E+1
checkpoint
wb 1 2500 5500 16383
take_snap
wb 2 6000
drop_snap
wb 3
suspend_resume
wb 2036 5090
era_remove
