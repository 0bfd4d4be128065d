#@ META_MB=1
#@ ORIGIN_MB=17
# stress_writesets: 90 small writesets (1..3 writes each) on a 1 MiB metadata
# device (256 blocks): the allocator wraps around many times
# local helpers (see testdata/kernel_random/generate.py)
req() { echo "@@REQ $1 $2"; wsect "$1" "$2"; }
pace() { sleep 0.2; }
era_create 8 32000
wb 2922
checkpoint
pace
wb 1970
checkpoint
pace
wb 2353 2400 1268
checkpoint
pace
wb 3630 1453 3297
checkpoint
pace
wb 2360 3638
checkpoint
pace
wb 1084 2000
checkpoint
pace
wb 1514 304
checkpoint
pace
wb 2996 589 168
checkpoint
pace
wb 2600 3899 3468
checkpoint
pace
wb 1526 1883
suspend_resume
pace
wb 538
checkpoint
pace
wb 3152 2157 739
checkpoint
pace
wb 2782
checkpoint
pace
wb 101
checkpoint
pace
wb 2067
checkpoint
pace
wb 3798 3153
checkpoint
pace
wb 507
checkpoint
pace
wb 2708
checkpoint
pace
wb 306 32
checkpoint
pace
wb 340
suspend_resume
pace
wb 2667
checkpoint
pace
wb 3236
checkpoint
pace
wb 3317
checkpoint
pace
wb 1782 2065 3208
checkpoint
pace
wb 3142 265 1956
checkpoint
pace
wb 3067 1382
checkpoint
pace
wb 1126 3467 720
checkpoint
pace
wb 1524 1276 1798
checkpoint
pace
wb 2725 3583
checkpoint
pace
wb 2337 1735 2046
suspend_resume
pace
wb 3626 3886 231
checkpoint
pace
wb 1402 2279
checkpoint
pace
wb 2042 1756 3795
checkpoint
pace
wb 2975 736 3812
checkpoint
pace
wb 1066 799 1232
checkpoint
pace
wb 2392
checkpoint
pace
wb 1957 660
checkpoint
pace
wb 2283
checkpoint
pace
wb 3146
checkpoint
pace
wb 2289 3691 2895
suspend_resume
pace
wb 3189
checkpoint
pace
wb 2287
checkpoint
pace
wb 2760 2776
checkpoint
pace
wb 2800
checkpoint
pace
wb 2594
checkpoint
pace
wb 1181 1112
checkpoint
pace
wb 491 1456
checkpoint
pace
wb 1235
checkpoint
pace
wb 3573 2572
checkpoint
pace
wb 3898 2609 2478
suspend_resume
pace
wb 1700
checkpoint
pace
wb 2311
checkpoint
pace
wb 2799 3027
checkpoint
pace
wb 534 3235
checkpoint
pace
wb 634
checkpoint
pace
wb 1666 3866 2353
checkpoint
pace
wb 2876 2074 336
checkpoint
pace
wb 1286 2460
checkpoint
pace
wb 3633 52
checkpoint
pace
wb 1244
suspend_resume
pace
wb 3925 3148 1756
checkpoint
pace
wb 3144
checkpoint
pace
wb 799 162 638
checkpoint
pace
wb 316 353 1496
checkpoint
pace
wb 3013 2573
checkpoint
pace
wb 3320
checkpoint
pace
wb 1636 851
checkpoint
pace
wb 1647
checkpoint
pace
wb 1908
checkpoint
pace
wb 3535 3321
suspend_resume
pace
wb 1867
checkpoint
pace
wb 2470 1577 938
checkpoint
pace
wb 2640 3509 346
checkpoint
pace
wb 1710 1927
checkpoint
pace
wb 3858
checkpoint
pace
wb 2613
checkpoint
pace
wb 1996 1668
checkpoint
pace
wb 2444 2383
checkpoint
pace
wb 2672
checkpoint
pace
wb 1970
suspend_resume
pace
wb 1059 3638 1604
checkpoint
pace
wb 2223
checkpoint
pace
wb 651 2878
checkpoint
pace
wb 1614 1502
checkpoint
pace
wb 2701
checkpoint
pace
wb 1068 3054 3861
checkpoint
pace
wb 229 3209 3269
checkpoint
pace
wb 663
checkpoint
pace
wb 2108
checkpoint
pace
wb 851 2960
suspend_resume
pace
era_remove
