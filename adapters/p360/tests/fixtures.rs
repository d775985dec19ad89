//! The P360 fixtures through the adapter alone: requests the adapter rejects must render
//! exactly the expected response; every other request must route and parse.

use std::path::Path;

use bpm_compat_model::fixture::{check_offline, load_tree};
use bpm_compat_p360::P360;

#[test]
fn every_p360_fixture_parses_or_fails_exactly_as_expected() {
    let all =
        load_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/p360")).expect("fixtures load");
    assert!(!all.is_empty(), "the fixture set is there");
    let summary = check_offline(&P360, &all, "http://localhost:8080/rest", "7");
    assert!(summary.failures.is_empty(), "{}", summary.failures.join("\n"));
    assert!(
        summary.checked_errors >= 4,
        "stateless error cases are checked offline ({})",
        summary.checked_errors
    );
    assert!(summary.parsed >= 5, "stateful steps parse ({})", summary.parsed);
}
