//! The Astro Zero fixtures through the adapter alone: requests the adapter rejects must render
//! exactly the expected response; every other request must route and parse.

use std::path::{Path, PathBuf};

use bpm_compat_astro_zero::AstroZero;
use bpm_compat_model::fixture::{run_offline_with, Bindings, OfflineOutcome, Scenario};

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixture dir readable") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            fixture_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_astro_zero_fixture_parses_or_fails_exactly_as_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/astro-zero");
    let mut files = Vec::new();
    fixture_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() >= 2,
        "the fixture set is there ({} files)",
        files.len()
    );
    let base = "http://localhost:8080/u-route/baas/bp/v2.0";
    let (mut checked_errors, mut parsed, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut bindings = Bindings::new(base);
        for step in &scenario.steps {
            for name in bindings.unbound_in(&step.request) {
                bindings.set(name, serde_json::Value::String("002N0000000000000007".into()));
            }
        }
        for step in run_offline_with(&AstroZero, &scenario, bindings) {
            match &step.outcome {
                OfflineOutcome::ErrorMatched => checked_errors += 1,
                OfflineOutcome::Parsed { .. } => parsed += 1,
                OfflineOutcome::Skipped { .. } => {}
                _ => failures.push(format!("{} / {}: {:?}", file.display(), step.name, step.outcome)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked_errors >= 7,
        "stateless error cases are checked offline ({checked_errors})"
    );
    assert!(parsed >= 6, "stateful steps parse ({parsed})");
}
