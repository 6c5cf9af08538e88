//! `doublure verify`, through the binary and over real sockets: a second
//! doublure, started in-process on port 0, stands in for the real
//! instance; verify compares it with its own in-process copy.

use std::path::Path;
use std::process::{Command, Output};

use doublure::testing::data::builtin_files;
use doublure::{Doublure, FaultRule, JournalFilter};
use serde_json::Value;

use crate::common::python;

const BIN: &str = env!("CARGO_BIN_EXE_doublure");

/// The built-in fixtures as a directory, with `edit` applied to each file.
fn fixture_dir(edit: impl Fn(&str, &str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in builtin_files() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, edit(name, text)).unwrap();
    }
    dir
}

fn unchanged(_: &str, text: &str) -> String {
    text.to_owned()
}

/// The stand-in for the real instance, serving `dir`.
async fn instance(dir: &Path) -> Doublure {
    Doublure::builder().fixtures(dir).start().await.unwrap()
}

/// Runs `doublure verify` with `args`, the secrets in the environment.
async fn verify(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .arg("verify")
            .args(args)
            .env("DOUBLURE_VERIFY_CLIENT_SECRET", "API_SECRET")
            .env("DOUBLURE_VERIFY_WCS_KEY", "demo-secret")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn verify_logora(url: &str, copy: &Path, more: &[&str]) -> Output {
    let copy = copy.to_str().unwrap();
    let mut args = vec![
        "logora",
        "--url",
        url,
        "--client-id",
        "API_KEY",
        "--fixtures",
        copy,
        "--rate",
        "1000",
    ];
    args.extend_from_slice(more);
    verify(&args).await
}

async fn verify_wcs(url: &str, copy: &Path, more: &[&str]) -> Output {
    let copy = copy.to_str().unwrap();
    let mut args = vec![
        "wcs",
        "--url",
        url,
        "--orig",
        "demo",
        "--email",
        "fred@example.net",
        "--fixtures",
        copy,
        "--rate",
        "1000",
    ];
    args.extend_from_slice(more);
    verify(&args).await
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `(probe, verdict)` of every probe whose verdict is not `verdict`.
fn not(report: &Value, verdict: &str) -> Vec<(String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] != verdict)
        .map(|r| {
            (
                r["probe"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn result<'a>(report: &'a Value, probe: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["probe"] == probe)
        .unwrap_or_else(|| panic!("no probe {probe}"))
}

/// The one-line difference lines of `probe`.
fn lines(report: &Value, probe: &str) -> Vec<String> {
    result(report, probe)["differences"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    let at = d["at"].as_str().unwrap();
                    let at = if at.is_empty() {
                        String::new()
                    } else {
                        format!(" {at}")
                    };
                    format!(
                        "{}{at}: real {}, doublure {}",
                        d["aspect"].as_str().unwrap(),
                        d["real"].as_str().unwrap(),
                        d["doublure"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_same_logora_data_and_profile_match_on_every_probe_and_exit_0() {
    let dir = fixture_dir(unchanged);
    let real = instance(dir.path()).await;
    let out = verify_logora(
        real.url(),
        dir.path(),
        &["--allow-writes", "--format", "json"],
    )
    .await;
    let r = report(&out);
    assert_eq!(not(&r, "match"), Vec::<(String, String)>::new());
    assert_eq!(r["results"].as_array().unwrap().len(), 43);
    assert_eq!(r["suggestion"]["profile"], "5.9.0");
    assert_eq!(out.status.code(), Some(0));
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.contains("API_SECRET"), "{text}");
    }
}

#[tokio::test]
async fn the_same_wcs_data_match_on_every_probe_and_the_table_says_so() {
    let dir = fixture_dir(unchanged);
    let real = instance(dir.path()).await;
    let out = verify_wcs(real.url(), dir.path(), &[]).await;
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.ends_with("28 probes: 28 match, 0 documented, 0 differ, 0 not checked\n"),
        "{table}"
    );
    assert!(!table.contains("demo-secret"), "{table}");
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test]
async fn an_instance_on_the_other_doorkeeper_profile_differs_on_scope_and_basic_plus_body_and_is_named()
 {
    let copy = fixture_dir(unchanged);
    let newer = fixture_dir(|name, text| {
        if name == "logora/applications.json" {
            text.replacen("\"id\": 1,", "\"id\": 1, \"doorkeeper\": \"5.9.6\",", 1)
        } else {
            text.to_owned()
        }
    });
    let real = instance(newer.path()).await;
    let out = verify_logora(
        real.url(),
        copy.path(),
        &["--allow-writes", "--format", "json"],
    )
    .await;
    let r = report(&out);
    assert_eq!(
        not(&r, "match"),
        [
            ("token.basic-and-body".to_owned(), "differs".to_owned()),
            ("scope.missing".to_owned(), "differs".to_owned())
        ]
    );
    assert_eq!(
        lines(&r, "token.basic-and-body")[0],
        "status: real 400, doublure 200"
    );
    assert_eq!(
        lines(&r, "scope.missing"),
        [
            "header www-authenticate: real \"Bearer realm=\\\"Doorkeeper\\\", error=\\\"insufficient_scope\\\", error_description=\\\"Access to this resource requires scope \\\"authentication\\\".\\\"\", doublure (none)",
            "error $.error: real \"insufficient_scope\", doublure \"invalid_scope\"",
        ]
    );
    assert_eq!(r["suggestion"]["profile"], "5.9.6");
    assert_eq!(
        r["suggestion"]["decided_by"],
        serde_json::json!([
            {"probe": "token.basic-and-body", "matches": ["5.9.6"]},
            {"probe": "scope.missing", "matches": ["5.9.6"]}
        ])
    );
    assert_eq!(out.status.code(), Some(1));

    let table = verify_logora(real.url(), copy.path(), &["--allow-writes"]).await;
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("\nbest matching Doorkeeper profile: 5.9.6, decided by: token.basic-and-body matches 5.9.6; scope.missing matches 5.9.6\n"),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with("token.basic-and-body ")
            && l.ends_with("DIFFERS  status: real 400, doublure 200 (and 9 more)")),
        "{table}"
    );

    // Compared with the instance's own profile, everything matches.
    let same = verify_logora(
        real.url(),
        copy.path(),
        &[
            "--allow-writes",
            "--doorkeeper",
            "5.9.6",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(not(&report(&same), "match"), Vec::<(String, String)>::new());
    assert_eq!(same.status.code(), Some(0));
}

#[tokio::test]
async fn a_wcs_access_restricted_to_roles_makes_the_probes_concerned_differ_and_says_how() {
    let copy = fixture_dir(unchanged);
    let restricted = fixture_dir(|name, text| {
        if name == "wcs/api_accesses.json" {
            text.replacen("\"roles\": [],", "\"roles\": [\"4\"],", 1)
        } else {
            text.to_owned()
        }
    });
    let real = instance(restricted.path()).await;
    let out = verify_wcs(real.url(), copy.path(), &["--format", "json"]).await;
    let r = report(&out);
    assert_eq!(
        lines(&r, "directory.all"),
        [
            "status: real 403, doublure 200",
            "shape $.err_class: real present, doublure missing",
            "shape $.err_code: real present, doublure missing",
            "shape $.err_desc: real present, doublure missing",
            "shape $.data: real missing, doublure present",
            "error $.err: real \"1\", doublure \"0\"",
        ]
    );
    assert_eq!(
        lines(&r, "user.signed")[..2],
        [
            "status: real 403, doublure 200".to_owned(),
            "shape $.err: real present, doublure missing".to_owned(),
        ]
    );
    // The signature's refusals come before the roles: those still match.
    assert_eq!(result(&r, "user.bad-signature")["verdict"], "match");
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn a_changed_directory_description_shows_as_a_value_difference_of_the_directory_probes() {
    // doublure has no directory-template setting (its description is
    // w.c.s.'s default one); what a changed template changes is the
    // `description` the directory shows, done here through the city that
    // feeds it.
    let copy = fixture_dir(unchanged);
    let other = fixture_dir(|name, text| {
        if name == "wcs/users.json" {
            text.replacen("\"city\": \"PARIS\"", "\"city\": \"LYON\"", 1)
        } else {
            text.to_owned()
        }
    });
    let real = instance(other.path()).await;
    let out = verify_wcs(real.url(), copy.path(), &["--format", "json"]).await;
    let r = report(&out);
    let found = lines(&r, "directory.all");
    assert!(
        found.iter().any(|l| l.starts_with("value $.data[")
            && l.contains(".description: real ")
            && l.contains("LYON")),
        "{found:?}"
    );
    assert_eq!(result(&r, "directory.q-nobody")["verdict"], "match");
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn an_instance_answering_503_stops_verify_cleanly_and_reports_what_it_did_not_check() {
    let dir = fixture_dir(unchanged);
    let real = instance(dir.path()).await;
    // The twelve token probes go through; from the users list on, 503.
    real.fault(FaultRule {
        path: Some("/api/v1/users*".into()),
        status: Some(503),
        ..FaultRule::default()
    })
    .unwrap();
    let out = verify_logora(real.url(), dir.path(), &["--format", "json"]).await;
    let r = report(&out);
    assert_eq!(
        r["stopped"],
        "the instance answered 503 to users.per-page-1 and the 2 probes before it"
    );
    let results = r["results"].as_array().unwrap();
    let sent_after = results
        .iter()
        .skip(15)
        .filter(|x| {
            !x["why"]
                .as_str()
                .unwrap_or("")
                .starts_with("not sent: verify stopped")
        })
        .count();
    assert_eq!(sent_after, 0);
    assert_eq!(result(&r, "token.scopes-plural")["verdict"], "match");
    assert_eq!(
        result(&r, "users.first-page")["why"],
        "the instance answered 503"
    );
    assert_eq!(out.status.code(), Some(1));
    // Three calls to the users list, then none.
    let calls = real.requests(&JournalFilter::default());
    assert_eq!(
        calls.iter().filter(|c| c.path == "/api/v1/users").count(),
        3
    );
}

#[tokio::test]
async fn without_allow_writes_the_instance_sees_only_gets_and_token_requests() {
    let dir = fixture_dir(unchanged);
    let real = instance(dir.path()).await;
    let out = verify_logora(real.url(), dir.path(), &["--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0));
    let r = report(&out);
    assert_eq!(
        result(&r, "revoke.own-token")["why"],
        "sends a write (not a GET nor the token request): needs --allow-writes"
    );
    let calls = real.requests(&JournalFilter::default());
    assert!(calls.len() > 30, "{}", calls.len());
    let writes: Vec<_> = calls
        .iter()
        .filter(|c| !(c.method == "GET" || (c.method == "POST" && c.path == "/oauth/token")))
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(writes, Vec::<String>::new());
}

#[tokio::test]
async fn a_copy_imported_on_the_fly_matches_or_differs_as_documented() {
    let dir = fixture_dir(unchanged);
    let real = instance(dir.path()).await;
    let out = verify(&[
        "logora",
        "--url",
        real.url(),
        "--client-id",
        "API_KEY",
        "--rate",
        "1000",
        "--format",
        "json",
    ])
    .await;
    let r = report(&out);
    let documented = result(&r, "users.is-expert");
    assert_eq!(documented["verdict"], "documented");
    assert!(
        documented["reasons"][0]
            .as_str()
            .unwrap()
            .ends_with("(docs/fidelity.md: Expert and selected users)")
    );
    assert_eq!(out.status.code(), Some(0), "{r}");
}

#[tokio::test]
async fn the_junit_report_reads_with_a_junit_xml_reader() {
    if !python::available("junitparser") {
        return;
    }
    let copy = fixture_dir(unchanged);
    let newer = fixture_dir(|name, text| {
        if name == "logora/applications.json" {
            text.replacen("\"id\": 1,", "\"id\": 1, \"doorkeeper\": \"5.9.6\",", 1)
        } else {
            text.to_owned()
        }
    });
    let real = instance(newer.path()).await;
    let out = verify_logora(real.url(), copy.path(), &["--format", "junit"]).await;
    assert_eq!(out.status.code(), Some(1));
    let file = copy.path().join("verify.xml");
    std::fs::write(&file, &out.stdout).unwrap();
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    print(suite.name, suite.tests, suite.failures, suite.skipped)
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        if kinds:
            print(case.classname, case.name, ",".join(kinds))
"#;
    let parsed = Command::new("python3")
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    assert_eq!(
        String::from_utf8(parsed.stdout).unwrap(),
        "doublure verify logora 43 1 4\n\
         verify.logora token.basic-and-body Failure\n\
         verify.logora introspect.own-token Skipped\n\
         verify.logora introspect.no-caller Skipped\n\
         verify.logora scope.missing Skipped\n\
         verify.logora revoke.own-token Skipped\n"
    );
}

#[test]
fn bad_arguments_exit_2() {
    let cases: [&[&str]; 5] = [
        &["logora", "--client-id", "A"],
        &[
            "logora",
            "--url",
            "http://127.0.0.1:1",
            "--client-id",
            "A",
            "--rate",
            "0",
        ],
        &["logora", "--url", "ftp://example.org", "--client-id", "A"],
        &[
            "logora",
            "--url",
            "http://127.0.0.1:1",
            "--client-id",
            "A",
            "--doorkeeper",
            "5.8.0",
        ],
        &[
            "wcs",
            "--url",
            "http://127.0.0.1:1",
            "--orig",
            "o",
            "--email",
            "a@b",
            "--name-id",
            "x",
        ],
    ];
    for args in cases {
        let out = Command::new(BIN)
            .arg("verify")
            .args(args)
            .env("DOUBLURE_VERIFY_CLIENT_SECRET", "S3CRET-VALUE")
            .env("DOUBLURE_VERIFY_WCS_KEY", "S3CRET-VALUE")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains("S3CRET-VALUE"));
    }
}
