complete -c era_generate -l nr-blocks -d 'Origin blocks (era array length)' -r -f
complete -c era_generate -l block-size -d 'Origin block size in 512-byte sectors (a multiple of 8)' -r -f
complete -c era_generate -l current-era -d 'The current era' -r -f
complete -c era_generate -l nr-writesets -d 'Number of archived writesets (at most the current era)' -r -f
complete -c era_generate -l density -d 'Fraction of each writeset\'s bits that are set, in [0, 1]' -r -f
complete -c era_generate -l seed -d 'Seed of the pseudo-random generator' -r -f
complete -c era_generate -l meta-size -d 'Minimum size of the output file in bytes; by default the file is made just large enough (an existing larger file keeps its size)' -r -f
complete -c era_generate -s o -l output -d 'The metadata file to write (created or extended as needed)' -r -F
complete -c era_generate -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_generate -s V -l version -d 'Print version'
