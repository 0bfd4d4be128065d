complete -c era_copy -l metadata -d 'The era metadata device or image' -r -F
complete -c era_copy -l written-since -d 'Copy the blocks written in era N or later (0: everything, the first backup)' -r -f
complete -c era_copy -l source -d 'The origin as a frozen view: a snapshot, a suspended device or an image file' -r -F
complete -c era_copy -l dest -d 'The backup: a block device or an image file (created or extended)' -r -F
complete -c era_copy -l dest-delta -d 'Write the changed blocks as a delta stream to FILE (- for standard output), replaced only when complete' -r -F
complete -c era_copy -l apply -d 'Apply the delta stream DELTA (- for standard input) to --dest' -r -F
complete -c era_copy -l length -d 'The era table\'s length in 512-byte sectors (dmsetup table\'s second field), when the source is longer than the table; it must make the metadata\'s number of blocks' -r -f
complete -c era_copy -l buffer-size -d 'Memory for data in flight, in bytes (suffixes K, M, G), at least 64K' -r -f
complete -c era_copy -l state -d 'A state file beside the backup recording the era range it holds: a run that would leave a gap or go backwards is refused. Written after a complete run' -r -F
complete -c era_copy -l report -d 'How to print the report' -r -f -a "text\t'One line on standard error'
json\t'The line, and a JSON object on standard output'"
complete -c era_copy -l metadata-snapshot -l metadata-snap -d 'Read the metadata snapshot held by a live target (take_metadata_snap first)'
complete -c era_copy -l verify -d 'Read back what was written and compare it with the source'
complete -c era_copy -l keep-going -d 'On a read error of the source, copy the rest, list the ranges that failed and exit 1 (without it, the copy stops naming the block)'
complete -c era_copy -l force -d 'Run even though --state says it leaves a gap or goes backwards'
complete -c era_copy -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_copy -s V -l version -d 'Print version'
