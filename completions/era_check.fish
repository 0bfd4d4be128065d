complete -c era_check -l io-engine -d 'Accepted for compatibility with thin-provisioning-tools and ignored: the I/O is always synchronous (O_DIRECT on block devices)' -r -f -a "sync\t''
async\t''"
complete -c era_check -s V -l version -d 'Print version (also -v, as in thin-provisioning-tools)'
complete -c era_check -s q -l quiet -d 'Print nothing; only the exit status tells the outcome'
complete -c era_check -l super-block-only -d 'Check the superblock only'
complete -c era_check -l metadata-snapshot -l metadata-snap -d 'Check the metadata snapshot held by a live target (its superblock copy, writeset tree, writesets and era array), without an exclusive open; the space map, which the live target keeps changing, is not checked'
complete -c era_check -l ignore-non-fatal-errors -d 'Succeed when only non-fatal problems (such as leaked blocks) are found'
complete -c era_check -s h -l help -d 'Print help (see more with \'--help\')'
