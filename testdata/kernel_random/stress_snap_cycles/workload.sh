#@ META_MB=2
#@ ORIGIN_MB=9
# stress_snap_cycles: 12 metadata snapshot take/drop cycles with writes and
# checkpoints between, the last snapshot left held
# local helpers (see testdata/kernel_random/generate.py)
req() { echo "@@REQ $1 $2"; wsect "$1" "$2"; }
pace() { sleep 0.2; }
era_create 16 16000
wb 485 275 673 541
take_snap
pace
wb 682 358 146
checkpoint
pace
drop_snap
pace
wb 390 11 383 494
take_snap
pace
wb 280 658 829
checkpoint
pace
drop_snap
pace
wb 471 707 885 615
take_snap
pace
wb 233 571 1
checkpoint
pace
drop_snap
pace
wb 677 639 148 450
take_snap
pace
wb 376 166 347
checkpoint
pace
drop_snap
pace
wb 927 215 60 590
take_snap
pace
wb 838 204 76
checkpoint
pace
drop_snap
pace
wb 525 703 838 345
take_snap
pace
wb 697 414 817
checkpoint
pace
drop_snap
pace
wb 862 89 19 940
take_snap
pace
wb 62 839 936
checkpoint
pace
drop_snap
pace
wb 677 521 228 93
take_snap
pace
wb 433 969 454
checkpoint
pace
drop_snap
pace
wb 115 676 433 994
take_snap
pace
wb 138 552 320
checkpoint
pace
drop_snap
pace
wb 903 636 571 167
take_snap
pace
wb 999 713 906
checkpoint
pace
drop_snap
pace
wb 52 568 175 519
take_snap
pace
wb 835 85 410
checkpoint
pace
drop_snap
pace
wb 622 428 684 610
take_snap
pace
wb 480 488 623
checkpoint
pace
era_remove
