//! Real clients over HTTPS, each trusting doublure's CA and nothing else,
//! none with an insecure switch: Python's requests-oauthlib, authlib and
//! httpx (HTTP/2), w.c.s.'s reference signer, curl in HTTP/2 and
//! HTTP/1.1, Node's fetch and oauth4webapi; and an application that only
//! knows `https://app.logora.fr`, run unchanged in a network namespace
//! whose hosts file names doublure.
//!
//! Each needs its program; where CI runs, a missing one is a failure
//! (`common::python`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use doublure::testing::config::Config;
use serde_json::{Value, json};

use crate::common::Served;
use crate::common::python;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// doublure over HTTPS with its CA kept in `dir`, and the CA file.
async fn served(dir: &Path) -> (Served, PathBuf) {
    let served = Served::build(&Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: true,
        tls_ca_dir: Some(dir.to_owned()),
        tls_names: vec!["app.logora.fr".into()],
        ..Config::default()
    })
    .await;
    (served, dir.join("ca.pem"))
}

/// Runs `command` off the runtime's thread, which serves doublure.
async fn output(command: Command) -> Output {
    output_keeping(command, &[]).await
}

/// [`output`], keeping the trust variables named in `keep`, which the
/// test sets.
async fn output_keeping(mut command: Command, keep: &[&str]) -> Output {
    // No trust and no insecure switch comes from the calling shell.
    for var in [
        "OAUTHLIB_INSECURE_TRANSPORT",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "NODE_TLS_REJECT_UNAUTHORIZED",
        "NODE_OPTIONS",
    ] {
        if !keep.contains(&var) {
            command.env_remove(var);
        }
    }
    tokio::task::spawn_blocking(move || command.output().expect("the program runs"))
        .await
        .unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn python_clients_get_a_token_and_users_and_sign_for_wcs_trusting_only_the_ca() {
    if !["requests_oauthlib", "authlib", "httpx", "h2"]
        .into_iter()
        .all(python::available)
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (served, ca) = served(dir.path()).await;
    let mut command = Command::new("python3");
    command.args([
        &format!("{ROOT}/tests/tls_clients.py"),
        &format!("https://localhost:{}", served.addr.port()),
        ca.to_str().unwrap(),
    ]);
    let seen = stdout_json(&output(command).await);
    assert_eq!(
        seen,
        json!({
            "requests_oauthlib": {"token_type": "Bearer", "status": 200, "users": 3},
            "authlib": {"token_type": "Bearer", "status": 200, "users": 2, "http_version": "HTTP/1.1"},
            "httpx": {
                "token_status": 200, "token_http_version": "HTTP/2",
                "status": 200, "users": 4, "http_version": "HTTP/2"
            },
            "wcs": {"status": 200, "user_email": "fred@example.net", "user_display_name": "Fred Cuadrado"}
        })
    );
}

fn curl(args: &[&str]) -> Command {
    let mut command = Command::new("curl");
    command.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
    ]);
    command.args(args);
    command
}

#[tokio::test]
async fn curl_with_the_ca_sees_http2_or_http1_1_as_asked_and_refuses_without_it() {
    if !python::program("curl", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (served, ca) = served(dir.path()).await;
    let ca = ca.to_str().unwrap();
    let health = format!("https://localhost:{}/__doublure/health", served.addr.port());

    let h2 = output(curl(&["--cacert", ca, "--http2", &health])).await;
    assert_eq!(String::from_utf8_lossy(&h2.stdout), "2 200", "{h2:?}");
    let h1 = output(curl(&["--cacert", ca, "--http1.1", &health])).await;
    assert_eq!(String::from_utf8_lossy(&h1.stdout), "1.1 200", "{h1:?}");

    // Under a real host name, which curl resolves to doublure.
    let resolve = format!("app.logora.fr:{}:127.0.0.1", served.addr.port());
    let named = format!(
        "https://app.logora.fr:{}/__doublure/health",
        served.addr.port()
    );
    let by_name = output(curl(&["--cacert", ca, "--resolve", &resolve, &named])).await;
    assert_eq!(
        String::from_utf8_lossy(&by_name.stdout),
        "2 200",
        "{by_name:?}"
    );

    // Without the CA: curl's own store does not know it (exit 60).
    let refused = output(curl(&["--http2", &health])).await;
    assert_eq!(refused.status.code(), Some(60), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("certificate"),
        "{refused:?}"
    );
}

/// What the namespace runs: loopback up, a hosts file of its own over
/// /etc/hosts (a mount of this namespace only), doublure on 127.0.0.1:443
/// as app.logora.fr, then the application.
const IN_NAMESPACE: &str = r#"
set -e
ip link set lo up
mount --bind "$HOSTS" /etc/hosts
"$DOUBLURE" tls ca --tls-ca-dir "$CA_DIR" --out "$CA_DIR/trusted.pem"
"$DOUBLURE" --tls --tls-name app.logora.fr --tls-ca-dir "$CA_DIR" --listen 127.0.0.1:443 \
  --public-url https://app.logora.fr --log-level warn &
doublure=$!
trap 'kill $doublure' EXIT
tries=0
until "$DOUBLURE" healthcheck --tls --listen 127.0.0.1:443 2>/dev/null; do
  tries=$((tries + 1))
  [ "$tries" -lt 200 ] || exit 3
  sleep 0.05
done
REQUESTS_CA_BUNDLE="$CA_DIR/trusted.pem" python3 "$APP"
"#;

#[tokio::test]
async fn an_application_that_only_knows_app_logora_fr_runs_unchanged_through_a_hosts_entry() {
    if !python::available("requests")
        || !python::program(
            "unshare",
            &["--user", "--map-root-user", "--mount", "--net", "true"],
        )
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n127.0.0.1 app.logora.fr\n").unwrap();
    let mut command = Command::new("unshare");
    command
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--net",
            "sh",
            "-c",
            IN_NAMESPACE,
        ])
        .env("HOSTS", &hosts)
        .env("CA_DIR", dir.path().join("ca"))
        .env("DOUBLURE", env!("CARGO_BIN_EXE_doublure"))
        .env("APP", format!("{ROOT}/tests/tls_unchanged_app.py"))
        .env_remove("DOUBLURE_LISTEN")
        .env_remove("DOUBLURE_TLS_LISTEN");
    let seen = stdout_json(&output(command).await);
    assert_eq!(seen, json!({"status": 200, "first": 1, "count": 2}));
}

/// Where oauth4webapi is installed: `DOUBLURE_TLS_NODE_MODULES`, a
/// `node_modules` folder (.ci/run fills one in its cache).
fn node_modules() -> Option<PathBuf> {
    let dir = std::env::var_os("DOUBLURE_TLS_NODE_MODULES").map(PathBuf::from);
    let found = dir.filter(|d| d.join("oauth4webapi").is_dir());
    if found.is_none() {
        python::missing("DOUBLURE_TLS_NODE_MODULES names no node_modules holding oauth4webapi");
    }
    found
}

#[cfg(unix)]
#[tokio::test]
async fn node_fetch_and_oauth4webapi_get_a_token_and_users_with_node_extra_ca_certs() {
    if !python::program("node", &["--version"]) {
        return;
    }
    let Some(modules) = node_modules() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (served, ca) = served(&dir.path().join("ca")).await;
    // The script beside a node_modules holding oauth4webapi, as in an
    // application's folder.
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::os::unix::fs::symlink(&modules, app.join("node_modules")).unwrap();
    std::fs::copy(
        format!("{ROOT}/tests/tls_node_clients.mjs"),
        app.join("clients.mjs"),
    )
    .unwrap();
    let mut command = Command::new("node");
    command
        .arg(app.join("clients.mjs"))
        .arg(format!("https://localhost:{}", served.addr.port()))
        .current_dir(&app)
        .env("NODE_EXTRA_CA_CERTS", &ca);
    let out = output_keeping(command, &["NODE_EXTRA_CA_CERTS"]).await;
    assert_eq!(
        stdout_json(&out),
        json!({
            "fetch": {"token_status": 200, "status": 200, "users": 2},
            "oauth4webapi": {"token_type": "bearer", "status": 200, "users": 3}
        })
    );
}
