//! The Astro Zero fixtures through the adapter alone: requests the adapter rejects must render
//! exactly the expected response; every other request must route and parse.

use std::path::Path;

use bpm_compat_astro_zero::AstroZero;
use bpm_compat_model::fixture::{check_offline, load_tree};

#[test]
fn every_astro_zero_fixture_parses_or_fails_exactly_as_expected() {
    let base = "http://localhost:8080/u-route/baas/bp/v2.0";
    let read = |group: &str| {
        load_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/astro-zero")
                .join(group),
        )
        .expect("fixtures load")
    };
    let instances = read("instances");
    assert!(
        instances.len() >= 2,
        "the fixture set is there ({} files)",
        instances.len()
    );
    let summary = check_offline(&AstroZero, &instances, base, "002N0000000000000007");
    assert!(summary.failures.is_empty(), "{}", summary.failures.join("\n"));
    assert!(
        summary.checked_errors >= 7,
        "stateless error cases are checked offline ({})",
        summary.checked_errors
    );
    assert!(summary.parsed >= 6, "stateful steps parse ({})", summary.parsed);
    // Ids bound in the metadata scenario are BPM ids, apart from the instance's.
    let definitions = read("definitions");
    let summary = check_offline(&AstroZero, &definitions, base, "001L0000000000001NFA");
    let unexpected: Vec<&String> = summary
        .failures
        .iter()
        .filter(|f| !f.contains("an id that is not a BPM id") && !f.contains("terminate the instance"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert!(summary.parsed >= 15, "stateful steps parse ({})", summary.parsed);
}
