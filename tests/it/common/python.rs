//! Tests backed by Python (the README's pytest examples, the reference
//! signer) need python3, and pytest for some. Where they are missing such a
//! test says it was skipped, except where CI runs (`CI` or
//! `DOUBLURE_REQUIRE_PYTEST` set): there a missing Python is a failure.

/// Whether `python3` can import `module`. Panics, naming what is
/// missing, where Python is required.
pub fn available(module: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = ["DOUBLURE_REQUIRE_PYTEST", "CI"].into_iter().find(|name| {
            std::env::var(name).is_ok_and(|v| !["", "0", "false"].contains(&v.as_str()))
        });
        if let Some(name) = required {
            panic!("{name} is set but python3 cannot import {module}");
        }
        eprintln!("skipped: python3 cannot import {module}");
    }
    ok
}

/// Whether the program `name` runs (`name ARGS…` exits 0). Panics, naming
/// it, where CI requires the tests that need it, as [`available`] does.
pub fn program(name: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(name)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        missing(&format!("`{name} {}` fails", args.join(" ")));
    }
    ok
}

/// Says a test is skipped because `what` (a missing tool) — or panics
/// with it where CI requires the test.
pub fn missing(what: &str) {
    let required = ["DOUBLURE_REQUIRE_PYTEST", "CI"]
        .into_iter()
        .find(|var| std::env::var(var).is_ok_and(|v| !["", "0", "false"].contains(&v.as_str())));
    if let Some(var) = required {
        panic!("{var} is set but {what}");
    }
    eprintln!("skipped: {what}");
}
