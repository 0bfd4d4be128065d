#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens a crash image written by era_emulate (live current writeset in the
# superblock): it archives that writeset under its era and continues at era + 1.
era_create 8
wb 0 5 2000                    # E+1
checkpoint
wb 5 6
era_status before_crash
note "powering off with the era device still active (crash image)"
