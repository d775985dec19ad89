//! The IBM BPM fixtures through the adapter alone: requests the adapter rejects must render
//! exactly the expected response; every other request must route and parse.

use std::path::Path;

use bpm_compat_ibm_bpm::IbmBpm;
use bpm_compat_model::fixture::{check_offline, load_tree};

#[test]
fn every_ibm_bpm_fixture_parses_or_fails_exactly_as_expected() {
    let read = |group: &str| {
        let all = load_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/ibm-bpm")
                .join(group),
        )
        .expect("fixtures load");
        assert!(!all.is_empty(), "the {group} fixtures are there");
        all
    };
    let base = "http://localhost:9080/rest/bpm/wle/v1";
    // Bound ids: a service key (`@<piid>`) in the service scenarios, decimal ids in the others.
    let mut checked = 0;
    let mut parsed = 0;
    for (group, placeholder) in [("service", "@7"), ("process", "7")] {
        let summary = check_offline(&IbmBpm, &read(group), base, placeholder);
        assert!(summary.failures.is_empty(), "{}", summary.failures.join("\n"));
        checked += summary.checked_errors;
        parsed += summary.parsed;
    }
    assert!(
        checked >= 11,
        "stateless error cases are checked offline ({checked})"
    );
    assert!(parsed >= 20, "stateful steps parse ({parsed})");
}
