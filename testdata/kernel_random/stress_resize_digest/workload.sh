#@ META_MB=4
#@ ORIGIN_MB=25
# stress_resize_digest: resizes with writesets in flight: each reload archives
# the current writeset at the old length and the digest folds it in after the
# resize (grow 3000 -> 6000 -> shrink 2500 with marks beyond -> grow 4100)
# local helpers (see testdata/kernel_random/generate.py)
req() { echo "@@REQ $1 $2"; wsect "$1" "$2"; }
pace() { sleep 0.2; }
era_create 8 24000
wb 1 2 64 1017 1018 2999
checkpoint
wb 5 6 2998
era_reload 48000
pace
wb 2999 3000 5999 4500
req 47990 2
era_reload 20000
pace
wb 7 2499
era_status
era_reload 32800
pace
wb 4099 2500 2999
checkpoint
pace
era_remove
