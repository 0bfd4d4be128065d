# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_era_emulate_global_optspecs
    string join \n h/help V/version
end

function __fish_era_emulate_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_era_emulate_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_era_emulate_using_subcommand
    set -l cmd (__fish_era_emulate_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c era_emulate -n "__fish_era_emulate_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_emulate -n "__fish_era_emulate_needs_command" -s V -l version -d 'Print version'
complete -c era_emulate -n "__fish_era_emulate_needs_command" -f -a "run" -d 'Run the target on two image files, driven by a script of commands'
complete -c era_emulate -n "__fish_era_emulate_needs_command" -f -a "serve" -d 'Serve the target over the NBD protocol on a Unix socket (and optionally TCP) until SIGTERM or SIGINT, then close it cleanly'
complete -c era_emulate -n "__fish_era_emulate_needs_command" -f -a "message" -d 'Send a message to a running `serve`, as `dmsetup message` does to a live target: checkpoint, take_metadata_snap or drop_metadata_snap'
complete -c era_emulate -n "__fish_era_emulate_needs_command" -f -a "status" -d 'Print the INFO status line of a running `serve`, as `dmsetup status` does (the same line as `run`\'s `status`)'
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -l meta -d 'The metadata image (an existing file; all zeros = unformatted)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -l origin -d 'The origin image (an existing file, read and written at SECTOR*512)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -l block-size -d 'Data block size in 512-byte sectors: a positive multiple of 8 (8, 16, 24, 128...)' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -l length -d 'Table length in sectors, at most the origin\'s size [default: the origin\'s size]' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -l cache-mb -d 'Metadata blocks kept in memory, in MiB (at least 1): the metadata\'s share of the memory, whatever the size of the metadata or of a transaction' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -l unsafe-no-sync -d 'Skip the flushes (fdatasync) of every commit: fast, not crash safe'
complete -c era_emulate -n "__fish_era_emulate_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l meta -d 'The metadata image (an existing file; all zeros = unformatted)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l origin -d 'The origin image (an existing file, read and written at SECTOR*512)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l block-size -d 'Data block size in 512-byte sectors: a positive multiple of 8 (8, 16, 24, 128...)' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l length -d 'Table length in sectors, at most the origin\'s size [default: the origin\'s size]' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l cache-mb -d 'Metadata blocks kept in memory, in MiB (at least 1): the metadata\'s share of the memory, whatever the size of the metadata or of a transaction' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l socket -d 'The NBD Unix socket to create (the control socket is PATH.ctl)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l listen -d 'Serve NBD on TCP as well, at [ADDR:]PORT (ADDR defaults to 127.0.0.1)' -r
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l discard -d 'What a TRIM (discard) request marks (see DISCARDS)' -r -f -a "mark\t'Mark every block the discard touches, then discard the range on the origin'
kernel\t'Mark only the block of the discard\'s first sector, as the kernel\'s target does, then discard the range on the origin'
ignore\t'Do not offer TRIM; a TRIM request is refused and nothing is discarded'"
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l handshake-limit -d 'Seconds a client may take over the NBD handshake before it is disconnected' -r -f
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -l unsafe-no-sync -d 'Skip the flushes (fdatasync) of every commit: fast, not crash safe'
complete -c era_emulate -n "__fish_era_emulate_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_emulate -n "__fish_era_emulate_using_subcommand message" -l socket -d 'The server\'s NBD socket (its --socket)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand message" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c era_emulate -n "__fish_era_emulate_using_subcommand status" -l socket -d 'The server\'s NBD socket (its --socket)' -r -F
complete -c era_emulate -n "__fish_era_emulate_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
