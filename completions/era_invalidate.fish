complete -c era_invalidate -l io-engine -d 'Accepted for compatibility with thin-provisioning-tools and ignored: the I/O is always synchronous (O_DIRECT on block devices)' -r -f -a "sync\t''
async\t''"
complete -c era_invalidate -l written-since -d 'List blocks written in era N or later' -r -f
complete -c era_invalidate -l format -d 'How to print the list' -r -f -a "xml\t'<blocks> with range (begin, end exclusive) and block elements, in blocks, as thin-provisioning-tools prints it'
ranges\t'One BEGIN END line per run, END exclusive; nothing when no block is listed'
json\t'One object: view (live or snapshot), block_size (sectors), nr_blocks, current_era, written_since, unit, length (the origin\'s end in the unit), length_rounded_up (true when that end is rounded up to a whole block), and runs, a list of {begin, end} with end exclusive'"
complete -c era_invalidate -l unit -d 'The unit of the ranges and JSON offsets. With sectors or bytes the last block is taken whole (the metadata does not record where the table ends inside it): give --length to clamp to the table\'s end. The XML is always in blocks' -r -f -a "blocks\t'Origin block numbers'
sectors\t'512-byte sectors of the origin'
bytes\t'Bytes of the origin'"
complete -c era_invalidate -l length -d 'The era target\'s table length in 512-byte sectors (dmsetup table\'s second field), to end the last run exactly there with --unit sectors or bytes. It must make the metadata\'s number of blocks' -r -f
complete -c era_invalidate -s o -l output -d 'Write the list to FILE instead of standard output. A regular file is replaced only when the listing has succeeded' -r -F
complete -c era_invalidate -s V -l version -d 'Print version (also -v, as in thin-provisioning-tools)'
complete -c era_invalidate -l metadata-snapshot -l metadata-snap -d 'Read the metadata snapshot held by a live target (the device is not opened exclusively, so this works while the target runs)'
complete -c era_invalidate -s h -l help -d 'Print help (see more with \'--help\')'
