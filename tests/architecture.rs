//! The architecture is checked, not only described: adapter crates depend on the model crate
//! and pure crates only — no async runtime, no Redis, no HTTP server, no other adapter.

use std::process::Command;

/// Pure crates an adapter may use. Anything else needs a reason and a line here.
const ALLOWED: &[&str] = &[
    "bpm-compat-model",
    "serde",
    "serde_json",
    "serde_urlencoded",
    "quick-xml",
    "http",
    "bytes",
    "png",
    "base64",
    // Variables: a map kept as one sorted Vec (a B-tree node costs ~900 bytes for any variable).
    "litemap",
    "thiserror",
];

#[test]
fn adapters_depend_only_on_the_model_and_pure_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let adapters: Vec<&serde_json::Value> = packages
        .iter()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| m.contains("/adapters/"))
        })
        .collect();
    assert!(
        adapters.len() >= 2,
        "the model and at least one adapter are workspace members"
    );
    let mut violations = Vec::new();
    for p in adapters {
        let name = p["name"].as_str().unwrap_or_default();
        for dep in p["dependencies"].as_array().into_iter().flatten() {
            // Dev-dependencies may use anything: tests are not the adapter.
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let dep_name = dep["name"].as_str().unwrap_or_default();
            if !ALLOWED.contains(&dep_name) {
                violations.push(format!("{name} depends on {dep_name}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "adapter crates must stay pure: {violations:#?}"
    );
}
