//! The IBM BPM fixtures through the adapter alone: requests the adapter rejects must render
//! exactly the expected response; every other request must route and parse.

use std::path::Path;

use bpm_compat_ibm_bpm::IbmBpm;
use bpm_compat_model::fixture::{check_offline, Scenario};

#[test]
fn every_ibm_bpm_fixture_parses_or_fails_exactly_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ibm-bpm/service");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixture dir readable") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("readable");
            let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            all.push((path.display().to_string(), scenario));
        }
    }
    assert!(!all.is_empty(), "the fixture set is there");
    let summary = check_offline(&IbmBpm, &all, "http://localhost:9080/rest/bpm/wle/v1", "@7");
    assert!(summary.failures.is_empty(), "{}", summary.failures.join("\n"));
    assert!(
        summary.checked_errors >= 8,
        "stateless error cases are checked offline ({})",
        summary.checked_errors
    );
    assert!(summary.parsed >= 8, "stateful steps parse ({})", summary.parsed);
}
