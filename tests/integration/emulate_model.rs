//! Model test: random command sequences run on the emulator and on a plain in-memory
//! model (per block: the last era it was written in; plus the snapshot's view). After
//! every close or crash the folded eras on disk, the era and the snapshot must agree
//! with the model, and the space map must be exact.

use crate::common;

use common::recount::assert_space_map_exact;
use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::Command;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::MemIo;
use era_tools::units::Era;
use era_tools::units::MetaBlock;
use std::sync::Arc;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Default)]
struct Model {
    era: u32,
    eras: Vec<u32>,
    snap: Option<Vec<u32>>,
    length: u64,
    open: bool,
    suspended: bool,
}

impl Model {
    fn open(&mut self, length: u64, bs: u64) {
        self.length = length;
        self.eras.resize(length.div_ceil(bs) as usize, 0);
        self.era += 1;
        self.open = true;
        self.suspended = false;
    }
}

const MAX_SECTORS: u64 = 24 * 1500;

fn check(meta: &MemIo, m: &Model, what: &str) {
    assert_space_map_exact(meta, what);
    let view = open_view(meta, Source::Live).unwrap();
    let md = read_metadata(meta, &view).unwrap();
    assert_eq!(md.superblock.current_era, Era::new(m.era), "{what}: era");
    assert_eq!(md.folded_eras(), m.eras, "{what}: folded eras");
    match &m.snap {
        Some(snap) => {
            let v = open_view(meta, Source::Snapshot).unwrap();
            let s = read_metadata(meta, &v).unwrap();
            assert_eq!(&s.folded_eras(), snap, "{what}: snapshot");
        }
        None => assert_eq!(
            view.live.metadata_snap,
            MetaBlock::new(0),
            "{what}: snapshot held"
        ),
    }
}

/// Two statuses right after a table load: the first lets the digest fold the writeset
/// the load archived at the new size, the second commits the result. Without them, a
/// crash (or a reload, which drops the old instance's uncommitted digest) right after a
/// shrink leaves that writeset in the tree at its old width, and a later grow brings its
/// marks beyond the shrunk end back. The kernel does the same (target.md §1.3, §10.4,
/// §13); the simple per-block model does not describe it.
fn settle(runner: &mut Runner) {
    runner.execute(&Command::Status, &mut Vec::new()).unwrap();
    runner.execute(&Command::Status, &mut Vec::new()).unwrap();
}

fn run_seed(seed: u64) -> usize {
    let mut rng = Rng(seed);
    let bs = [8u64, 16, 24][rng.below(3) as usize];
    let meta = Arc::new(MemIo::new(1024 + rng.below(2048)));
    let mut runner = Runner::new(RunConfig {
        meta: meta.clone(),
        origin: Arc::new(MemOrigin::new(MAX_SECTORS as usize * 512)),
        block_size: bs as u32,
        length: None,
        sync: false,
        meta_name: "m".into(),
        origin_name: "o".into(),
    });
    let mut m = Model::default();
    let mut checks = 0;
    let pick_length = |rng: &mut Rng| bs + rng.below(MAX_SECTORS / 24 * 8);
    for step in 0..80 {
        let what = format!("seed {seed} step {step}");
        let mut out = Vec::new();
        if !m.open {
            let len = pick_length(&mut rng);
            runner.execute(&Command::Open(Some(len)), &mut out).unwrap();
            m.open(len, bs);
            settle(&mut runner);
            continue;
        }
        if m.suspended {
            runner.execute(&Command::Resume, &mut out).unwrap();
            m.era += 1;
            m.suspended = false;
            continue;
        }
        match rng.below(20) {
            0..=8 => {
                let sector = rng.below(m.length);
                let count = 1 + rng.below((3 * bs).min(m.length - sector));
                let cmd = Command::Write {
                    sector,
                    count,
                    byte: 1,
                };
                runner.execute(&cmd, &mut out).unwrap();
                for b in sector / bs..=(sector + count - 1) / bs {
                    m.eras[b as usize] = m.era;
                }
            }
            9 => {
                let sector = rng.below(m.length);
                let cmd = Command::Discard {
                    sector,
                    count: m.length - sector,
                };
                runner.execute(&cmd, &mut out).unwrap();
                m.eras[(sector / bs) as usize] = m.era;
            }
            10 | 11 => {
                runner
                    .execute(&Command::Message(vec!["checkpoint".into()]), &mut out)
                    .unwrap();
                m.era += 1;
            }
            12 => {
                let r = runner.execute(
                    &Command::Message(vec!["take_metadata_snap".into()]),
                    &mut out,
                );
                if m.snap.is_some() {
                    assert!(r.is_err(), "{what}: second snapshot accepted");
                } else {
                    r.unwrap();
                    m.snap = Some(m.eras.clone());
                    m.era += 1;
                }
            }
            13 => {
                let r = runner.execute(
                    &Command::Message(vec!["drop_metadata_snap".into()]),
                    &mut out,
                );
                assert_eq!(r.is_ok(), m.snap.is_some(), "{what}: drop");
                m.snap = None;
            }
            14 => {
                runner.execute(&Command::Status, &mut out).unwrap();
            }
            15 => {
                runner.execute(&Command::Suspend, &mut out).unwrap();
                m.suspended = true;
            }
            16 => {
                let len = pick_length(&mut rng);
                runner.execute(&Command::Reload(len), &mut out).unwrap();
                m.open(len, bs);
                settle(&mut runner);
            }
            17 => {
                runner.execute(&Command::Crash, &mut out).unwrap();
                m.open = false;
                check(&meta, &m, &what);
                checks += 1;
            }
            _ => {
                runner.execute(&Command::Close, &mut out).unwrap();
                m.open = false;
                check(&meta, &m, &what);
                checks += 1;
            }
        }
    }
    if m.open {
        runner.close().unwrap();
        check(&meta, &m, &format!("seed {seed} end"));
        checks += 1;
    }
    checks
}

#[test]
fn emulator_agrees_with_the_model_after_every_close() {
    let mut checks = 0;
    for seed in 0..120 {
        checks += run_seed(seed);
    }
    assert!(checks > 500, "only {checks} checks");
}
