# era_generate straight to the image (no dump/restore): 40000 blocks, bs 16, era 20,
# 5 writesets at 2%, padded to 4 MiB so that the kernel has room to work.
set -euo pipefail
B=${ERA_BIN:-target/release}
"$B/era_generate" --nr-blocks 40000 --block-size 16 --current-era 20 --nr-writesets 5 \
    --density 0.02 --seed 11 --meta-size 4194304 -o "$1/meta_in.img"
