//! The `doublure` binary itself: environment variables, an empty working
//! directory, invalid fixtures, `fixtures validate`, `healthcheck`, SIGTERM.

use doublure::testing::data::builtin_files;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::served::get;

const BIN: &str = env!("CARGO_BIN_EXE_doublure");

/// A running doublure, killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
    /// The log line that announced the address.
    line: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and waits for its `listening on` line.
fn start(args: &[&str], envs: &[(&str, &str)], cwd: &Path) -> Running {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("DOUBLURE_LISTEN")
        .env_remove("DOUBLURE_FIXTURES")
        .env_remove("DOUBLURE_PUBLIC_URL")
        .env("DOUBLURE_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawn doublure");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on http://") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("doublure announced its address");
    let addr = line
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .trim_matches('"')
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("address in {line:?}: {e}"));
    Running { child, addr, line }
}

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("DOUBLURE_LISTEN")
        .output()
        .expect("run doublure")
}

#[tokio::test]
async fn the_binary_alone_in_an_empty_directory_serves_the_built_in_fixtures() {
    let empty = tempfile::tempdir().unwrap();
    let running = start(&[], &[], empty.path());
    assert_ne!(running.addr.port(), 0, "the real port is announced");
    let (status, body) = get(&format!("http://{}/__doublure/health", running.addr)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
}

#[tokio::test]
async fn environment_variables_configure_the_server() {
    let empty = tempfile::tempdir().unwrap();
    let running = start(
        &[],
        &[
            ("DOUBLURE_LOG_FORMAT", "json"),
            ("DOUBLURE_LOG_LEVEL", "info"),
        ],
        empty.path(),
    );
    let line: serde_json::Value = serde_json::from_str(&running.line).expect("a JSON log line");
    assert_eq!(
        line["message"],
        format!("doublure listening on http://{}", running.addr)
    );
}

#[tokio::test]
async fn a_flag_wins_over_its_environment_variable() {
    let empty = tempfile::tempdir().unwrap();
    let running = start(
        &["--listen", "127.0.0.1:0"],
        &[("DOUBLURE_LISTEN", "127.0.0.1:1")],
        empty.path(),
    );
    assert_ne!(running.addr.port(), 1);
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_invalid_fixture_directory_stops_start_up_with_status_2_and_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "logora/usres.json", "[]");
    write(dir.path(), "wcs/nothing.json", "[]");
    let output = Command::new(BIN)
        .args([
            "--fixtures",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let root = dir.path().display();
    assert!(
        stderr.contains(&format!(
            "{root}/logora/usres.json: unknown fixture file; expected one of: logora/"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{root}/wcs/nothing.json: unknown fixture file")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_missing_fixture_directory_is_reported_by_name() {
    let output = run(
        &["--fixtures", "/no/such/dir", "--listen", "127.0.0.1:0"],
        Path::new("/"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "doublure: invalid fixtures:\n/no/such/dir: not a directory\n"
    );
}

#[test]
fn fixtures_validate_accepts_the_repository_fixtures() {
    let output = run(
        &["fixtures", "validate", "fixtures"],
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "fixtures: valid\n"
    );
}

#[test]
fn fixtures_validate_rejects_a_broken_directory_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "wcs/typo.json", "[]");
    let output = run(
        &["fixtures", "validate", dir.path().to_str().unwrap()],
        Path::new("/"),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("wcs/typo.json: unknown fixture file"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn healthcheck_exits_0_against_a_healthy_server_and_1_otherwise() {
    let empty = tempfile::tempdir().unwrap();
    let running = start(&[], &[], empty.path());
    let healthy = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{}/__doublure/health", running.addr),
        ],
        empty.path(),
    );
    assert_eq!(healthy.status.code(), Some(0), "{healthy:?}");

    let not_health = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{}/nothing", running.addr),
        ],
        empty.path(),
    );
    assert_eq!(not_health.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_health.stderr).contains("HTTP 404"));

    // A port nobody listens on: bind one, note it, free it.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{free}/__doublure/health"),
        ],
        empty.path(),
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).starts_with("unhealthy: "));
}

#[tokio::test]
async fn healthcheck_finds_the_server_from_doublure_listen() {
    let empty = tempfile::tempdir().unwrap();
    let running = start(&[], &[], empty.path());
    // As in the Docker image: the server listens on an address, the check
    // reads the same variable.
    let output = Command::new(BIN)
        .arg("healthcheck")
        .env(
            "DOUBLURE_LISTEN",
            format!("0.0.0.0:{}", running.addr.port()),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_and_ctrl_c_stop_the_server_with_status_0() {
    for signal in ["-TERM", "-INT"] {
        let empty = tempfile::tempdir().unwrap();
        let mut running = start(&[], &[], empty.path());
        let (status, _) = get(&format!("http://{}/__doublure/health", running.addr)).await;
        assert_eq!(status, 200);
        let killed = Command::new("kill")
            .args([signal, &running.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let (tx, rx) = mpsc::channel();
        let mut child =
            std::mem::replace(&mut running.child, Command::new("true").spawn().unwrap());
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("doublure exited after kill {signal}"))
            .unwrap();
        assert_eq!(status.code(), Some(0), "{signal}");
    }
}

/// The built-in fixtures as a directory, with `edit` applied to each file.
fn fixture_dir(edit: impl Fn(&str, &str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in builtin_files() {
        write(dir.path(), name, &edit(name, text));
    }
    dir
}

#[tokio::test]
async fn environment_variables_set_fixtures_public_url_admin_token_and_origins() {
    let dir = fixture_dir(|name, text| {
        if name == "logora/users.json" {
            text.replacen("Jean Dupont", "Jean Depuis-l-Environnement", 1)
        } else {
            text.to_owned()
        }
    });
    let empty = tempfile::tempdir().unwrap();
    let running = start(
        &[],
        &[
            ("DOUBLURE_FIXTURES", dir.path().to_str().unwrap()),
            ("DOUBLURE_PUBLIC_URL", "http://public.test:9999"),
            ("DOUBLURE_ADMIN_TOKEN", "s3cret"),
            ("DOUBLURE_CORS_ORIGIN", "http://front.test"),
        ],
        empty.path(),
    );
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let list = format!("{base}/api/v1/users?api_key=API_KEY&per_page=100");
    let response = client
        .get(&list)
        .header("origin", "http://front.test")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["access-control-allow-origin"], "http://front.test");
    assert!(
        headers["link"]
            .to_str()
            .unwrap()
            .starts_with("<http://public.test:9999/api/v1/users?"),
        "{headers:?}"
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Jean Depuis-l-Environnement")
    );

    let other = client
        .get(&list)
        .header("origin", "http://elsewhere.test")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let state = format!("{base}/__doublure/state");
    assert_eq!(client.get(&state).send().await.unwrap().status(), 401);
    let allowed = client
        .get(&state)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
}

#[test]
fn an_invalid_item_stops_start_up_naming_file_item_and_field() {
    let dir = fixture_dir(|name, text| match name {
        "logora/users.json" => text.replacen("\"age\": 78", "\"age\": \"old\"", 1),
        "wcs/forms.json" => text.replacen("\"user_id\": 1,", "\"user_id\": 99,", 1),
        _ => text.to_owned(),
    });
    let output = run(
        &[
            "--fixtures",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        Path::new("/"),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let root = dir.path().display();
    assert!(
        stderr.contains(&format!("{root}/logora/users.json: item "))
            && stderr.contains("field age:"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{root}/wcs/forms.json: item "))
            && stderr.contains("field user_id: unknown user 99 (not in wcs/users.json)"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// ---- Closed pipes -------------------------------------------------------------

/// Runs the binary with standard output and standard error both on a pipe
/// whose reader is already closed, as `doublure … 2>&1 | head -0` leaves
/// them: every write fails with a broken pipe.
fn run_into_a_closed_pipe(args: &[&str]) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(BIN)
        .args(args)
        .current_dir("/")
        .env_remove("DOUBLURE_LISTEN")
        .env_remove("DOUBLURE_FIXTURES")
        .stdout(writer.try_clone().expect("pipe writer"))
        .stderr(writer)
        .status()
        .expect("run doublure")
}

#[test]
fn writing_to_a_closed_pipe_keeps_the_documented_exit_status() {
    let broken = tempfile::tempdir().unwrap();
    write(broken.path(), "wcs/typo.json", "[]");
    let broken = broken.path().to_str().unwrap();
    let valid = fixture_dir(|_, text| text.to_owned());
    let valid = valid.path().to_str().unwrap();
    let cases: [(&[&str], i32); 5] = [
        // The report's case: invalid fixtures at start-up, then `| head -1`.
        (&["--fixtures", broken, "--listen", "127.0.0.1:0"], 2),
        (&["fixtures", "validate", broken], 2),
        (&["fixtures", "validate", valid], 0),
        (
            &["sign", "http://localhost:8080/api/user/", "--orig", "demo"],
            0,
        ),
        (&["sign", "http://x/", "--orig", "nobody-knows-me"], 2),
    ];
    for (args, code) in cases {
        let status = run_into_a_closed_pipe(args);
        assert_eq!(status.code(), Some(code), "doublure {}", args.join(" "));
    }
}

#[tokio::test]
async fn refused_namespaces_are_folded_in_the_log_by_kind_not_logged_one_line_each() {
    // Arrange: a binary whose every log line is kept.
    let empty = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(empty.path())
        .env_remove("DOUBLURE_FIXTURES")
        .env_remove("DOUBLURE_PUBLIC_URL")
        .env("DOUBLURE_LISTEN", "127.0.0.1:0")
        .env("DOUBLURE_LOG_LEVEL", "info")
        .env("DOUBLURE_LOG_FORMAT", "text")
        .env("DOUBLURE_MAX_NAMESPACES", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn doublure");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on http://") {
                let _ = tx.send(line.clone());
            }
            lines.push(line);
        }
        lines
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("started");
    let addr = line.rsplit("http://").next().unwrap().trim().to_owned();
    let client = reqwest::Client::new();

    // Act: 300 made-up names, each long, then one namespace over the cap.
    let long = "n".repeat(2000);
    for n in 0..300 {
        let url = format!("http://{addr}/__ns/{long}{n}/api/v1/users");
        let status = client.get(url).send().await.unwrap().status();
        assert_eq!(status.as_u16(), 400);
    }
    for name in ["a", "b"] {
        client
            .get(format!("http://{addr}/__ns/{name}/__doublure/clock"))
            .send()
            .await
            .unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    let lines = reader.join().unwrap();

    // Assert: every refusal is counted, in lines a second at most, none
    // with the whole name.
    let logged = lines
        .iter()
        .filter(|l| l.contains("namespace refused: namespace name"))
        .count();
    let folded: u64 = lines
        .iter()
        .filter_map(|l| {
            let (_, rest) = l.split_once("…and ")?;
            let (n, what) = rest.split_once(" more like this: ")?;
            (what == "namespace refused: invalid name")
                .then(|| n.replace(',', "").parse::<u64>().unwrap())
        })
        .sum();
    assert_eq!(logged as u64 + folded, 300, "{lines:#?}");
    assert!(logged < 30, "{logged} lines for 300 refusals");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("namespace refused: too many namespaces")),
        "{lines:#?}"
    );
    assert!(lines.iter().all(|l| l.len() < 1000), "a name cut short");
}

/// Starts the binary with `args` and collects its log lines until the one
/// containing `until`.
fn start_until(args: &[&str], until: &str, cwd: &Path) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("DOUBLURE_LISTEN")
        .env_remove("DOUBLURE_TLS")
        .env_remove("DOUBLURE_TLS_CA_DIR")
        .env("DOUBLURE_LOG_LEVEL", "info")
        // A CA made for the run is written there, not in the machine's /tmp.
        .env("TMPDIR", cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn doublure");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains(until)) {
        lines.push(
            rx.recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no {until:?} in {lines:?}")),
        );
    }
    (child, lines)
}

#[tokio::test]
async fn with_tls_and_a_ca_dir_the_log_names_the_ca_file_and_tls_ca_prints_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let ca_dir_arg = ca_dir.to_str().unwrap();
    let (mut child, lines) = start_until(
        &[
            "--tls",
            "--tls-ca-dir",
            ca_dir_arg,
            "--tls-name",
            "app.logora.fr",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ],
        "TLS certificate",
        dir.path(),
    );
    let messages: Vec<String> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|l| l["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    let listening = messages
        .iter()
        .find_map(|m| m.strip_prefix("doublure listening on https://"))
        .expect("an https address");
    let addr: SocketAddr = listening.parse().unwrap();
    assert_eq!(
        messages.last().unwrap(),
        &format!(
            "TLS certificate for localhost, 127.0.0.1, ::1, app.logora.fr from doublure's CA: \
             {} (also GET /__doublure/tls/ca.pem)",
            ca_dir.join("ca.pem").display()
        )
    );
    let ca = std::fs::read_to_string(ca_dir.join("ca.pem")).unwrap();

    // `tls ca` prints the CA the server uses, and writes it with --out.
    let printed = run(&["tls", "ca", "--tls-ca-dir", ca_dir_arg], dir.path());
    assert_eq!(printed.status.code(), Some(0));
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), ca);
    let out = dir.path().join("copy.pem");
    let written = run(
        &[
            "tls",
            "ca",
            "--tls-ca-dir",
            ca_dir_arg,
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(written.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), ca);

    // The healthcheck knows the port serves HTTPS from DOUBLURE_TLS.
    let healthy = Command::new(BIN)
        .arg("healthcheck")
        .env("DOUBLURE_LISTEN", addr.to_string())
        .env("DOUBLURE_TLS", "true")
        .env_remove("DOUBLURE_TLS_LISTEN")
        .output()
        .unwrap();
    assert_eq!(healthy.status.code(), Some(0), "{healthy:?}");
    let plain = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{addr}/__doublure/health"),
        ],
        dir.path(),
    );
    assert_eq!(plain.status.code(), Some(1));

    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn tls_ca_in_a_fresh_directory_makes_the_ca_there() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("new");
    let printed = run(
        &["tls", "ca", "--tls-ca-dir", ca_dir.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(printed.status.code(), Some(0));
    let pem = String::from_utf8(printed.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert_eq!(std::fs::read_to_string(ca_dir.join("ca.pem")).unwrap(), pem);
    assert!(ca_dir.join("ca-key.pem").exists());
}

#[tokio::test]
async fn with_tls_and_no_ca_dir_the_log_names_a_file_of_the_runs_ca_removed_at_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = start_until(
        &["--tls", "--listen", "127.0.0.1:0", "--log-format", "json"],
        "TLS certificate",
        dir.path(),
    );
    let messages: Vec<String> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|l| l["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    let addr: SocketAddr = messages
        .iter()
        .find_map(|m| m.strip_prefix("doublure listening on https://"))
        .expect("an https address")
        .parse()
        .unwrap();
    let expected = dir
        .path()
        .join(format!("doublure-ca-{}-{}.pem", child.id(), addr.port()));
    assert_eq!(
        messages.last().unwrap(),
        &format!(
            "TLS certificate for localhost, 127.0.0.1, ::1 from a CA made for this run: {} \
             (also GET /__doublure/tls/ca.pem; --tls-ca-dir keeps the CA across restarts)",
            expected.display()
        )
    );
    // The file is the CA the server's certificate comes from.
    let ca = std::fs::read_to_string(&expected).unwrap();
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let served = client
        .get(format!("https://{addr}/__doublure/tls/ca.pem"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.text().await.unwrap(), ca);

    // A graceful stop removes it.
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(child.wait().unwrap().success());
    assert!(!expected.exists(), "{} left behind", expected.display());
}
