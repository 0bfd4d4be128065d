#@ META_MB=4
#@ ORIGIN_MB=1100
# shrink_two_level: an era array of 277 array blocks (281,600 origin blocks of 8
# sectors) is a two-level btree (internal root over leaves of at most 252 entries).
# Two reloads shrink it: to 200,000 blocks (197 array blocks: entries leave the last
# leaf, the kernel's rebalance2/3 run) and to 100,000 (99 array blocks: one leaf left,
# the root collapses).  Pauses after every operation let the digest keep pace.
era_create 8
wb 0 1 140000 281599             # era 1
checkpoint
sleep 8
era_status after_digest_1
wb 7 199999 250000               # era 2
era_reload 1600000               # -> 200000 blocks
sleep 8
era_status after_digest_2
wb 5 150000 199999               # era 3
checkpoint
sleep 8
wb 99999 3                        # era 4
era_reload 800000                # -> 100000 blocks
sleep 8
era_status after_digest_3
wb 99998 12                      # era 5
era_remove
