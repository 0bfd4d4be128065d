//! The incremental backup through `era_emulate serve`: writes by qemu-io and qemu-img
//! in each era, a checkpoint, a metadata snapshot, `era_copy --metadata-snapshot` from
//! the origin (no writes while it runs), and the snapshot dropped; after every run the
//! backup equals the origin byte for byte, and the next run starts at the era the
//! report names. The same chain through delta files applied in order, each applied
//! twice; out of order and with a gap refused by `--state`.

use crate::copy_support::*;
use crate::serve_support::*;
use std::process::Command;

const ORIGIN: u64 = 16 << 20;

/// Writes in the current era: qemu-io everywhere, and in some eras a qemu-img convert
/// of a partly zero image over the first MiB.
fn writes(img: &Images, rng: &mut fastrand::Rng, round: usize) {
    random_writes(img, rng, ORIGIN, 30 + round * 10, 0x30 + round as u8);
    if round % 2 == 1 {
        let raw = img.path("part.raw");
        let mut data = vec![0u8; 1 << 20];
        for (i, b) in data
            .iter_mut()
            .enumerate()
            .skip(round * 4096)
            .take(64 << 10)
        {
            *b = (i % 253) as u8 ^ round as u8;
        }
        std::fs::write(&raw, &data).unwrap();
        ok(Command::new("qemu-img")
            .args(["convert", "-n", "-f", "raw", "-O", "raw"])
            .arg(&raw)
            .arg(img.uri()));
    }
}

fn snapshot(server: &Server, words: &str) {
    let o = server.message(words);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_chain_of_increments_keeps_the_backup_equal_to_the_origin() {
    if !have_all(&["qemu-io", "qemu-img"]) {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    let mut rng = fastrand::Rng::with_seed(18);
    let (backup, replica) = (img.path("backup.img"), img.path("replica.img"));
    let (state, replica_state) = (img.path("backup.state"), img.path("replica.state"));
    let meta = img.meta.to_str().unwrap().to_string();
    let origin = img.origin.to_str().unwrap().to_string();
    let mut since = 0u32;
    let mut deltas = Vec::new();
    for round in 0..6 {
        writes(&img, &mut rng, round);
        server.checkpoint();
        snapshot(&server, "take_metadata_snap");
        let n = since.to_string();
        let common = [
            "--metadata",
            &meta,
            "--metadata-snapshot",
            "--written-since",
            &n,
            "--source",
            &origin,
            "--report",
            "json",
        ];
        let mut args = common.to_vec();
        args.extend(["--dest", backup.to_str().unwrap(), "--verify"]);
        args.extend(["--state", state.to_str().unwrap()]);
        let report = copy_ok(&args);
        // Only the listed blocks were copied.
        let listed = written_since(&img.meta, since, &["--metadata-snapshot"]);
        assert_eq!(report["blocks"], listed.len() as u64, "round {round}");
        assert_eq!(report["since"], since);
        let delta = img.path(&format!("delta.{round}"));
        let mut args = common.to_vec();
        args.extend(["--dest-delta", delta.to_str().unwrap()]);
        let dreport = copy_ok(&args);
        assert_eq!(dreport["blocks"], report["blocks"]);
        snapshot(&server, "drop_metadata_snap");
        assert_same(&img.origin, &backup, &format!("backup after round {round}"));
        // The delta, applied twice: the second time changes nothing.
        for _ in 0..2 {
            copy_ok(&[
                "--apply",
                delta.to_str().unwrap(),
                "--dest",
                replica.to_str().unwrap(),
                "--state",
                replica_state.to_str().unwrap(),
                "--report",
                "json",
            ]);
            assert_same(
                &img.origin,
                &replica,
                &format!("replica after round {round}"),
            );
        }
        let until = report["next_written_since"].as_u64().unwrap() as u32;
        assert!(
            until > since || round == 0,
            "round {round}: {until} after {since}"
        );
        since = until;
        deltas.push(delta);
    }
    server.stop();
    // Out of order: an older delta after a newer one goes backwards.
    let apply = |delta: &std::path::Path, dest: &str, state: &str| {
        era_copy(&[
            "--apply",
            delta.to_str().unwrap(),
            "--dest",
            dest,
            "--state",
            state,
        ])
    };
    let replica_s = replica.to_str().unwrap();
    let replica_state_s = replica_state.to_str().unwrap();
    let before = std::fs::read(&replica).unwrap();
    let (code, err) = code_err(&apply(&deltas[2], replica_s, replica_state_s));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("goes backwards"), "{err}");
    assert_eq!(
        std::fs::read(&replica).unwrap(),
        before,
        "refused, yet written"
    );
    // A gap: the third delta on a backup holding only the first.
    let fresh = img.path("fresh.img");
    let fresh_state = img.path("fresh.state");
    let (f, fs) = (fresh.to_str().unwrap(), fresh_state.to_str().unwrap());
    assert!(apply(&deltas[0], f, fs).status.success());
    let (code, err) = code_err(&apply(&deltas[2], f, fs));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("gap"), "{err}");
    // --force applies it anyway.
    let o = era_copy(&[
        "--apply",
        deltas[2].to_str().unwrap(),
        "--dest",
        f,
        "--state",
        fs,
        "--force",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
