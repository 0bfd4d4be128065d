complete -c era_repair -l io-engine -d 'Accepted for compatibility with thin-provisioning-tools and ignored: the I/O is always synchronous (O_DIRECT on block devices)' -r -f -a "sync\t''
async\t''"
complete -c era_repair -s i -l input -d 'The damaged metadata device or image; it is only read' -r -F
complete -c era_repair -s o -l output -d 'The metadata device or image to write; it must exist, be large enough, and not be the input' -r -F
complete -c era_repair -l data-block-size -d 'The origin block size in sectors (the era target\'s third table argument), for when the superblock is unreadable and no metadata snapshot copy records it' -r -f
complete -c era_repair -l nr-blocks -d 'The number of origin blocks, for when the superblock is unreadable and no era array found tells it (a structure found that describes more blocks still wins)' -r -f
complete -c era_repair -s V -l version -d 'Print version (also -v, as in thin-provisioning-tools)'
complete -c era_repair -s q -l quiet -d 'Print no progress and no report, only errors; the exit status tells the outcome'
complete -c era_repair -s h -l help -d 'Print help (see more with \'--help\')'
