//! Architecture checks that run with `cargo test`, in the manner of
//! rust-analyzer's tidy: the invariants in ARCHITECTURE.md that code can check.

use std::path::{Path, PathBuf};

fn core_crates() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(crates)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "found only {dirs:?}");
    dirs
}

#[test]
fn core_crates_know_nothing_about_tauri_or_webkit() {
    for dir in core_crates() {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        for line in manifest.lines() {
            let key = line.split(['=', '.']).next().unwrap_or("").trim();
            assert!(
                !(key == "tauri"
                    || key.starts_with("tauri-")
                    || key == "wry"
                    || key.starts_with("webkit")),
                "{}: core crates must not depend on `{key}`",
                dir.display()
            );
        }
    }
}

#[test]
fn every_core_crate_says_what_it_is_for() {
    for dir in core_crates() {
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(
            lib.starts_with("//! "),
            "{}: lib.rs must open with a //! purpose paragraph",
            dir.display()
        );
        assert!(
            lib.contains("#![deny(missing_docs)]"),
            "{}: lib.rs must deny missing docs",
            dir.display()
        );
    }
}
