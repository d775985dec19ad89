//! The webMethods fixtures through the adapter alone: requests the adapter rejects must render
//! exactly the expected response; every other request must route and parse.

use std::path::Path;

use bpm_compat_model::fixture::{check_offline, load_tree};
use bpm_compat_webmethods::WebMethods;

#[test]
fn every_webmethods_fixture_parses_or_fails_exactly_as_expected() {
    let all = load_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/webmethods"))
        .expect("fixtures load");
    assert!(!all.is_empty(), "the fixture set is there");
    let base = "http://localhost:5555/invoke";
    let summary = check_offline(&WebMethods, &all, base, "PO1");
    assert!(summary.failures.is_empty(), "{}", summary.failures.join("\n"));
    assert!(
        summary.checked_errors >= 4,
        "stateless error cases are checked offline ({})",
        summary.checked_errors
    );
    assert!(summary.parsed >= 25, "stateful steps parse ({})", summary.parsed);
}
