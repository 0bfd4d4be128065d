#@ META_MB=8
#@ ORIGIN_MB=1024
#@ TIMEOUT=900
# wide_paced: wide, with a pause after each checkpoint so that the digest
# finishes before the next write (the schedule era_emulate follows). wide: block size 8 sectors over a 1 GiB origin = 262144 blocks, so the
# era array has 258 array blocks (1018 u32 each) and its btree needs two
# leaves under an internal root; writesets are 9 bitset blocks.
# 5 eras of 300 pseudo-random writes (LCG seeded 7), plus writes at the
# first/last block of each of a few array blocks.
era_create 8
rng_seed 7
round=1
while [ $round -le 5 ]; do
    i=0
    while [ $i -lt 300 ]; do
        rng_block
        wb $RB
        i=$((i + 1))
    done
    era_status round$round
    if [ $round -lt 5 ]; then checkpoint; sleep 20; era_status digested$round; fi
    round=$((round + 1))
done
wb 0 1017 1018 2035 2036 131071 131072 258043 258044 262143
era_remove
