complete -c era_restore -l io-engine -d 'Accepted for compatibility with thin-provisioning-tools and ignored: the I/O is always synchronous (O_DIRECT on block devices)' -r -f -a "sync\t''
async\t''"
complete -c era_restore -s i -l input -d 'The XML file to read' -r -F
complete -c era_restore -s o -l output -d 'The metadata device or image to write; it must exist and be large enough' -r -F
complete -c era_restore -s V -l version -d 'Print version (also -v, as in thin-provisioning-tools)'
complete -c era_restore -s q -l quiet -d 'Print no progress'
complete -c era_restore -s h -l help -d 'Print help (see more with \'--help\')'
