#@ META_MB=72
#@ ORIGIN_MB=2344
#@ TIMEOUT=600
# The kernel opens a large restored image: 600000 blocks (4800000 sectors), era 9 with
# the writesets of eras 8 and 9 in the tree: era 10 after the open.
era_create 8 4800000
wb 0 1017 1018 300000 599999   # era 10
checkpoint
wb 1 450000                    # era 11
take_snap
wb 2                           # era 12
drop_snap
wb 599998                      # era 13
era_remove
