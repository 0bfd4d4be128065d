#@ META_MB=8
#@ ORIGIN_MB=1024
#@ TIMEOUT=540
# stress_wide_paced: testdata/kernel/wide (262144 blocks, 5 eras of 300 LCG
# writes) with a 5 s pause after each checkpoint, so that each digest of
# 2,622 passes finishes before the next writes
# local helpers (see testdata/kernel_random/generate.py)
req() { echo "@@REQ $1 $2"; wsect "$1" "$2"; }
pace() { sleep 0.2; }
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
    [ $round -lt 5 ] && checkpoint && sleep 5
    round=$((round + 1))
done
wb 0 1017 1018 2035 2036 131071 131072 258043 258044 262143
era_remove
