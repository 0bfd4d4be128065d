//! The examples of each tool: (what it does, the command), shown in the EXAMPLES section
//! of its man page and at the end of its `--help`.

/// The examples of the page `stem` (a tool, or `tool-subcommand`).
pub fn examples(stem: &str) -> &'static [(&'static str, &'static str)] {
    match stem {
        "era_check" => &[
            ("Check an image or an idle device completely, space map included:", "era_check /dev/mapper/meta"),
            ("Check the metadata snapshot of a live target:", "dmsetup message era 0 take_metadata_snap\nera_check --metadata-snapshot /dev/mapper/meta\ndmsetup message era 0 drop_metadata_snap"),
        ],
        "era_dump" => &[
            ("Dump everything, as thin-provisioning-tools' era_dump prints it:", "era_dump /dev/mapper/meta > era.xml"),
            ("One era per block (writesets folded into the era array), written atomically:", "era_dump --logical -o era.xml meta.img"),
            ("Dump a live target's metadata snapshot:", "era_dump --metadata-snapshot /dev/mapper/meta"),
        ],
        "era_invalidate" => &[
            ("The blocks written in era 42 or later (END is exclusive):", "era_invalidate --written-since 42 meta.img"),
            ("The same on a live target, through its metadata snapshot:", "dmsetup message era 0 take_metadata_snap\nera_invalidate --metadata-snapshot --written-since 42 /dev/mapper/meta\ndmsetup message era 0 drop_metadata_snap"),
            ("One BEGIN END line per run of blocks, for a shell loop:", "era_invalidate --format ranges --written-since 42 meta.img |\n  while read begin end; do echo \"blocks $begin to $((end - 1))\"; done"),
            ("The runs in bytes of the origin, ending exactly at the table's end (its length in sectors, the second field of dmsetup table), as JSON:", "era_invalidate --format json --unit bytes --length 2097152 --written-since 42 meta.img"),
            ("The runs in 512-byte sectors of the origin, as ranges:", "era_invalidate --format ranges --unit sectors --written-since 42 meta.img"),
        ],
        "era_copy" => &[
            ("The first, full backup of a kernel target through an LVM snapshot of its origin (the report names the era the next run starts from, here 7):", "dmsetup message era 0 checkpoint\ndmsetup message era 0 take_metadata_snap\nlvcreate -s -n origin-snap -L 10G vg/origin\nera_copy --metadata /dev/mapper/meta --metadata-snapshot --written-since 0 \\\n  --source /dev/vg/origin-snap --dest /backups/vm.img --state /backups/vm.state\ndmsetup message era 0 drop_metadata_snap\nlvremove -y vg/origin-snap"),
            ("The next increment, verified: the blocks written in era 7 or later:", "era_copy --metadata /dev/mapper/meta --metadata-snapshot --written-since 7 \\\n  --source /dev/vg/origin-snap --dest /backups/vm.img --state /backups/vm.state --verify"),
            ("The increment as a delta stream to another host:", "era_copy --metadata /dev/mapper/meta --metadata-snapshot --written-since 7 \\\n  --source /dev/vg/origin-snap --dest-delta - |\n  ssh backup era_copy --apply - --dest /backups/vm.img --state /backups/vm.state"),
            ("A machine-readable report, and a source with bad sectors copied around them (exit 1, the failed ranges listed):", "era_copy --metadata meta.img --written-since 7 --source origin.img --dest backup.img --keep-going --report json"),
        ],
        "era_restore" => &[
            ("Write metadata from XML onto an existing device or image (an image is left as it was on bad input; a device that fails part-way is left marked as an interrupted restore, which every tool names):", "era_restore -i era.xml -o /dev/mapper/meta"),
            ("Into a new 4 MiB image file:", "truncate -s 4M meta.img\nera_restore -i era.xml -o meta.img"),
        ],
        "era_repair" => &[
            ("Salvage damaged metadata into a new image; what could not be read is named on stderr, and every block a backup needs is kept:", "truncate -s 4M fixed.img\nera_repair -i /dev/mapper/meta -o fixed.img\nera_invalidate --written-since 42 fixed.img"),
            ("Print what can be salvaged, as XML:", "era_dump --repair /dev/mapper/meta"),
        ],
        "era_metadata_size" => &[
            ("The metadata device for a 1 TiB origin in 64 KiB blocks (128 sectors):", "era_metadata_size --block-size 128 --origin-size 1t"),
            ("The same for the origin a table maps, in MiB, to create an image of that size:", "era_metadata_size -n -u mib -b 128 -s $(blockdev --getsize64 /dev/vg/origin)\ntruncate -s \"$(era_metadata_size -n -b 128 -s 1t)\" meta.img"),
        ],
        "era_generate" => &[
            ("16 million origin blocks with 4 writesets of about 12% density:", "era_generate --nr-blocks 16000000 --current-era 100 --nr-writesets 4 --density 0.12 -o meta.img"),
        ],
        "era_emulate" | "era_emulate-run" => &[
            ("Format a new metadata image, write block 0 in era 1 and blocks 8 and 9 in era 2, and print the status line:", "truncate -s 4M meta.img; truncate -s 64M origin.img\nprintf 'write 0 8\\ncheckpoint\\nwrite 64 16 7\\nstatus\\n' |\n  era_emulate run --meta meta.img --origin origin.img --block-size 8\nera_invalidate --written-since 2 meta.img"),
            ("Simulate a power cut with a live writeset, then reopen (the crashed era's writes are kept):", "printf 'write 0 8\\ncrash\\n' | era_emulate run --meta meta.img --origin origin.img --block-size 8\necho status | era_emulate run --meta meta.img --origin origin.img --block-size 8"),
        ],
        "era_emulate-message" => &[
            ("Start a new era in a running server (as dmsetup message era 0 checkpoint):", "era_emulate message --socket /tmp/era.sock checkpoint"),
            ("Hold a metadata snapshot while reading it, then release it:", "era_emulate message --socket /tmp/era.sock take_metadata_snap\nera_invalidate --metadata-snapshot --written-since 2 meta.img\nera_emulate message --socket /tmp/era.sock drop_metadata_snap"),
        ],
        "era_emulate-status" => &[
            ("Print the status line of a running server (its sixth field is the current era):", "era_emulate status --socket /tmp/era.sock"),
        ],
        "era_emulate-serve" => &[
            ("Serve the target over NBD, copy a disk image onto it, start a new era, and list what changed since, while the server runs:", "era_emulate serve --meta meta.img --origin disk.img --block-size 128 --socket /tmp/era.sock &\nqemu-img convert -n -O raw image.raw 'nbd+unix:///?socket=/tmp/era.sock'\nera_emulate message --socket /tmp/era.sock checkpoint\nera_emulate status --socket /tmp/era.sock\nera_emulate message --socket /tmp/era.sock take_metadata_snap\nera_invalidate --metadata-snapshot --written-since 2 meta.img\nera_emulate message --socket /tmp/era.sock drop_metadata_snap\nkill %1"),
        ],
        _ => &[],
    }
}

/// The end of `--help`: the epilogue (`after_help`), then the examples of `stem`.
pub fn long_help(stem: &str, epilogue: &str) -> String {
    let mut s = epilogue.to_string();
    let examples = examples(stem);
    if !examples.is_empty() {
        s.push_str("\n\nExamples:");
        for (what, command) in examples {
            s.push_str("\n  ");
            s.push_str(what);
            for line in command.lines() {
                s.push_str("\n    ");
                s.push_str(line);
            }
        }
    }
    s
}

/// Gives a subcommand of `tool` its examples at the end of its `--help`.
pub fn with_examples_of(tool: &'static str) -> impl FnMut(clap::Command) -> clap::Command {
    move |c| {
        let epilogue = c
            .get_after_help()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let stem = format!("{tool}-{}", c.get_name());
        c.after_long_help(long_help(&stem, &epilogue))
    }
}
