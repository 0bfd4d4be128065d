complete -c era_metadata_size -s b -l block-size -d 'The origin\'s block size in 512-byte sectors (the era table\'s last argument, a multiple of 8); a k, m or g suffix gives it in KiB, MiB or GiB instead' -r -f
complete -c era_metadata_size -s s -l origin-size -d 'The origin\'s size in bytes; a suffix s (sectors), k, m, g, t or p (KiB … PiB) gives it in other units' -r -f
complete -c era_metadata_size -l nr-blocks -d 'The number of origin blocks, instead of --origin-size and --block-size' -r -f
complete -c era_metadata_size -s u -l unit -d 'The unit of the size printed (rounded up to a whole unit)' -r -f -a "bytes\t'Bytes'
sectors\t'512-byte sectors'
blocks\t'4096-byte metadata blocks'
kib\t'KiB (1024 bytes)'
mib\t'MiB'
gib\t'GiB'"
complete -c era_metadata_size -s n -l numeric-only -d 'Print the number only'
complete -c era_metadata_size -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_metadata_size -s V -l version -d 'Print version'
