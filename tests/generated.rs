//! The man pages under `man/` and the completions under `completions/` are generated from
//! the argument definitions. This test renders them again and compares; run it with
//! `UPDATE_GOLDEN=1` to rewrite the committed files after changing an option.

use era_tools::cli::docs::{commands, completion, completion_file, man_pages, SHELLS};
use std::path::Path;

fn compare_or_update(path: &Path, fresh: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, fresh).unwrap();
    } else if std::fs::read(path).ok().as_deref() != Some(fresh) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn man_pages_and_completions_are_in_sync() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for cmd in commands() {
        let name = cmd.get_name().to_string();
        for (page, man) in man_pages(&cmd).unwrap() {
            assert!(String::from_utf8_lossy(&man).contains(&page));
            compare_or_update(
                &root.join("man").join(format!("{page}.8")),
                &man,
                &mut stale,
            );
        }
        for shell in SHELLS {
            let script = completion(&cmd, shell);
            let file = root.join("completions").join(completion_file(&name, shell));
            compare_or_update(&file, &script, &mut stale);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (regenerate with UPDATE_GOLDEN=1 cargo test --test generated): {stale:?}"
    );
}
