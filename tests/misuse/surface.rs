//! Protocol code depends on a simulator-free surface.
//!
//! The protocol crate `examples/lease` depends on detsim, detsim-net and
//! detsim-disk without their `sim` feature and takes the simulator as a
//! dev-dependency, as the book tells users to. These tests ask `cargo tree`
//! (offline, locked: it resolves, it builds nothing) what each build gets.
//! `cargo tree -e normal` leaves dev-dependencies out of the feature
//! resolution as well as out of the graph, exactly as a non-test `cargo
//! build` does under resolver 2 and later; with its default edges it
//! resolves as `cargo test` does, dev-dependencies included. Both are
//! checked, so a check that could not see the simulator would fail too.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Dependencies only the simulator has: none may be in a surface build.
const SIMULATOR_ONLY: [&str; 9] = [
    "proptest",
    "rand_chacha",
    "rand_core",
    "rustc-hash",
    "serde_json",
    "tracing",
    "tracing-log",
    "tracing-subscriber",
    "hyper",
];

/// `cargo tree … args` of this workspace: each package's name and features.
fn tree(args: &[&str]) -> BTreeMap<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .arg("tree")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["--offline", "--locked", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut packages = BTreeMap::new();
    for line in String::from_utf8(output.stdout).expect("utf-8").lines() {
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        let name = package.split_whitespace().next().expect("a package name");
        let features = features.trim_end_matches(" (*)");
        let features: Vec<String> = features
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        packages.insert(name.to_owned(), features);
    }
    packages
}

fn names(packages: &BTreeMap<String, Vec<String>>) -> Vec<&str> {
    packages.keys().map(String::as_str).collect()
}

#[test]
fn a_protocol_crates_production_build_has_no_simulator() {
    // Proves the non-test build of `lease` gets the three crates without
    // `sim` (only `tokio`/`real`) and none of the simulator's dependencies.
    let packages = tree(&["-p", "lease", "-e", "normal"]);
    assert_eq!(packages["detsim"], ["tokio"], "{packages:#?}");
    assert_eq!(packages["detsim-net"], ["tokio"], "{packages:#?}");
    assert_eq!(packages["detsim-disk"], ["real"], "{packages:#?}");
    for name in SIMULATOR_ONLY {
        assert!(
            !packages.contains_key(name),
            "{name} is in lease's production build: {:?}",
            names(&packages)
        );
    }
}

#[test]
fn its_tests_get_the_simulator_from_the_dev_dependency() {
    // Proves the measurement above can see the simulator: resolved as
    // `cargo test` resolves (dev-dependencies included), the same crates
    // have `sim`, and the simulator's dependencies are there.
    let packages = tree(&["-p", "lease"]);
    for crate_name in ["detsim", "detsim-net", "detsim-disk"] {
        assert!(
            packages[crate_name].iter().any(|f| f == "sim"),
            "{crate_name}: {:?}",
            packages[crate_name]
        );
    }
    for name in ["rand_chacha", "serde_json", "tracing-subscriber"] {
        assert!(
            packages.contains_key(name),
            "{name}: {:?}",
            names(&packages)
        );
    }
}

#[test]
fn each_surface_has_only_its_own_dependencies() {
    // Proves what each crate's surface build depends on directly: detsim on
    // futures and serde (and tokio for its real runtime), detsim-net on
    // futures, postcard and serde (and tokio), detsim-disk on nothing.
    let direct = |args: &[&str]| {
        let mut all = vec!["-e", "normal", "--depth", "1", "--no-default-features"];
        all.extend_from_slice(args);
        tree(&all).into_keys().collect::<Vec<_>>()
    };
    assert_eq!(direct(&["-p", "detsim"]), ["detsim", "futures", "serde"]);
    assert_eq!(
        direct(&["-p", "detsim", "--features", "tokio"]),
        ["detsim", "futures", "serde", "tokio"]
    );
    assert_eq!(
        direct(&["-p", "detsim-net"]),
        ["detsim-net", "futures", "postcard", "serde"]
    );
    assert_eq!(
        direct(&["-p", "detsim-net", "--features", "tokio"]),
        ["detsim-net", "futures", "postcard", "serde", "tokio"]
    );
    assert_eq!(
        direct(&["-p", "detsim-disk", "--features", "real"]),
        ["detsim-disk"]
    );
}
