//! Requirement (a) of the contract fixtures: every file of `fixtures/flowable` through the
//! adapter alone — no server, no engine. Requests the adapter rejects must render exactly the
//! expected response; requests Flowable rejects from the request alone (`stateless` steps)
//! must be rejected; every other request must route and parse. The full responses are checked
//! through the real server by the root crate's `tests/contract.rs`.

use std::path::Path;

use bpm_compat_flowable::Flowable;
use bpm_compat_model::fixture::{check_offline, load_tree};

#[test]
fn every_flowable_fixture_parses_or_fails_exactly_as_expected() {
    let all = load_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/flowable"))
        .expect("fixtures load");
    assert!(all.len() > 20, "the fixture set is there ({} files)", all.len());
    let summary = check_offline(
        &Flowable,
        &all,
        "http://localhost:8080/flowable-rest/service",
        "7",
    );
    assert!(summary.failures.is_empty(), "{}", summary.failures.join("\n"));
    assert!(
        summary.checked_errors >= 10,
        "stateless error cases are checked offline ({})",
        summary.checked_errors
    );
    assert!(
        summary.parsed >= 50,
        "requests route and parse ({})",
        summary.parsed
    );
}
