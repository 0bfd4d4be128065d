complete -c era_restore -s i -l input -d 'The XML file to read' -r -F
complete -c era_restore -s o -l output -d 'The metadata device or image to write; it must exist and be large enough' -r -F
complete -c era_restore -s q -l quiet -d 'Print no progress'
complete -c era_restore -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_restore -s V -l version -d 'Print version'
