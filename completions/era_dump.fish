complete -c era_dump -l io-engine -d 'Accepted for compatibility with thin-provisioning-tools and ignored: the I/O is always synchronous (O_DIRECT on block devices)' -r -f -a "sync\t''
async\t''"
complete -c era_dump -l data-block-size -d 'With --repair: the origin block size in sectors, for when the superblock is unreadable and no metadata snapshot copy records it' -r -f
complete -c era_dump -l nr-blocks -d 'With --repair: the number of origin blocks, for when the superblock is unreadable and no era array found tells it' -r -f
complete -c era_dump -s o -l output -d 'Write the XML to FILE instead of standard output. A regular file is replaced only when the dump has succeeded' -r -F
complete -c era_dump -s V -l version -d 'Print version (also -v, as in thin-provisioning-tools)'
complete -c era_dump -l logical -d 'Fold the writesets into the era array and print only the superblock and the era array, giving every block the era of its latest write'
complete -c era_dump -l compact -d 'Print each writeset as runs of marked blocks (marked elements with block_begin and len) instead of one line per block. With --logical, which prints no writesets, it is accepted and changes nothing'
complete -c era_dump -l metadata-snapshot -l metadata-snap -d 'Read the metadata snapshot held by a live target instead of the live metadata'
complete -c era_dump -s r -l repair -d 'Salvage damaged metadata as era_repair does and print the salvaged XML; what could not be read is reported on standard error'
complete -c era_dump -s h -l help -d 'Print help (see more with \'--help\')'
