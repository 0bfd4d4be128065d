complete -c era_invalidate -l written-since -d 'List blocks written in era N or later' -r
complete -c era_invalidate -s o -l output -d 'Write the list to FILE instead of standard output. A regular file is replaced only when the listing has succeeded' -r -F
complete -c era_invalidate -l metadata-snapshot -l metadata-snap -d 'Read the metadata snapshot held by a live target (the device is not opened exclusively, so this works while the target runs)'
complete -c era_invalidate -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_invalidate -s V -l version -d 'Print version'
