# era_generate (4096 blocks, bs 8, era 300, 250 writesets at 5%: a writeset tree of more
# than one leaf, which the kernel itself was never seen to build) -> era_dump --compact ->
# era_restore into a zeroed 4 MiB image.
set -euo pipefail
B=${ERA_BIN:-target/release}
"$B/era_generate" --nr-blocks 4096 --block-size 8 --current-era 300 --nr-writesets 250 \
    --density 0.05 --seed 5 -o "$1/gen.img"
"$B/era_dump" --compact -o "$1/in.xml" "$1/gen.img"
truncate -s 4M "$1/meta_in.img"
"$B/era_restore" -q -i "$1/in.xml" -o "$1/meta_in.img"
