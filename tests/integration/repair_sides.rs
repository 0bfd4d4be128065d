//! A repair streams the repaired metadata from its input into its output: a failure
//! there names the side that failed. The input failing between the two passes is
//! covered where a device can be made to fail on cue (the unit tests of
//! `commands::repair` and `commands::dump`); here, the output that fails.

use crate::common::*;
use std::process::Command;

#[test]
fn an_output_that_fails_is_named_as_the_output() {
    let Some(case) = kernel_cases().into_iter().next() else {
        return;
    };
    let input = kernel_image_file(&case);
    let o = Command::new(env!("CARGO_BIN_EXE_era_dump"))
        .args(["--repair", "-o", "/dev/full"])
        .arg(input.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("/dev/full: No space left on device"), "{err}");
    let name = input.path().display().to_string();
    assert!(
        !err.lines()
            .any(|l| l.contains(&name) && l.contains("/dev/full")),
        "{err}"
    );
}
