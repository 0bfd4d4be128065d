#@ META_MB=72
#@ ORIGIN_MB=65627
#@ TIMEOUT=900
# stress_two_bitmaps: a 72 MiB metadata device (18432 blocks, two bitmaps);
# grow to 16.8M blocks (16,503 era-array blocks: the space map spills into its
# second bitmap), write, shrink back
# local helpers (see testdata/kernel_random/generate.py)
req() { echo "@@REQ $1 $2"; wsect "$1" "$2"; }
pace() { sleep 0.2; }
era_create 8 262144
wb 0 1 4095
era_reload 134400000
pace
wb 5 16613760 16799999
era_status
era_reload 262144
pace
wb 7
checkpoint
pace
era_remove
