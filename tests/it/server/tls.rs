//! HTTPS and HTTP/2 over real sockets: a client that trusts doublure's CA
//! (and nothing else) reaches it under every name the certificate covers,
//! in HTTP/2 or HTTP/1.1 as it asks; one that does not trust it refuses;
//! h2c on the plain port; and the timeouts cut a slow handshake, a
//! half-sent HTTP/2 header block and a stalled HTTP/2 body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use doublure::testing::config::Config;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest::{Certificate, Client, Version};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::common::Served;

fn tls_config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: true,
        ..Config::default()
    }
}

/// A client that trusts doublure's CA and no other.
fn trusting(ca_pem: &str) -> reqwest::ClientBuilder {
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(ca_pem.as_bytes()).unwrap())
}

async fn users_page(client: &Client, base: &str) -> (Version, u16, Value) {
    let response = client
        .get(format!("{base}/api/v1/users?api_key=API_KEY&per_page=2"))
        .send()
        .await
        .unwrap();
    let version = response.version();
    let status = response.status().as_u16();
    (version, status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_gets_http2_or_http1_1_as_it_asks_and_the_journal_says_which() {
    let served = Served::build(&tls_config()).await;
    let ca = served.ca_pem.clone().expect("a CA");
    let base = format!("https://localhost:{}", served.addr.port());

    let h2 = trusting(&ca).build().unwrap();
    let (version, status, page) = users_page(&h2, &base).await;
    assert_eq!((version, status), (Version::HTTP_2, 200));
    assert_eq!(page["data"].as_array().unwrap().len(), 2);

    let h1 = trusting(&ca).http1_only().build().unwrap();
    let (version, status, _) = users_page(&h1, &base).await;
    assert_eq!((version, status), (Version::HTTP_11, 200));

    // The same through 127.0.0.1, which the certificate names too.
    let by_ip = format!("https://127.0.0.1:{}", served.addr.port());
    assert_eq!(users_page(&h2, &by_ip).await.1, 200);

    let journal: Value = h2
        .get(format!("{base}/__doublure/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let versions: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["http_version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["HTTP/2", "HTTP/1.1", "HTTP/2"]);
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_refuses_the_certificate() {
    let served = Served::build(&tls_config()).await;
    let error = Client::new()
        .get(format!(
            "https://localhost:{}/__doublure/health",
            served.addr.port()
        ))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
}

#[tokio::test]
async fn the_ca_is_served_as_pem_and_a_kept_ca_is_the_same_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        tls_ca_dir: Some(dir.path().to_owned()),
        tls_names: vec!["app.logora.fr".into(), "demarches.example.fr".into()],
        ..tls_config()
    };
    let served = Served::build(&config).await;
    let ca = served.ca_pem.clone().unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca.pem")).unwrap(),
        ca
    );
    // Under a real host name, resolved to doublure as a hosts entry would.
    let client = trusting(&ca)
        .resolve("app.logora.fr", served.addr)
        .build()
        .unwrap();
    let response = client
        .get(format!(
            "https://app.logora.fr:{}/__doublure/tls/ca.pem",
            served.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-pem-file");
    assert_eq!(response.text().await.unwrap(), ca);
    served.stop().await.unwrap();

    let again = Served::build(&config).await;
    assert_eq!(again.ca_pem.as_deref(), Some(ca.as_str()));
    let client = trusting(&ca)
        .resolve("demarches.example.fr", again.addr)
        .build()
        .unwrap();
    let (_, status, _) = users_page(
        &client,
        &format!("https://demarches.example.fr:{}", again.addr.port()),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_name_the_certificate_does_not_cover_is_refused() {
    let served = Served::build(&tls_config()).await;
    let client = trusting(served.ca_pem.as_deref().unwrap())
        .resolve("app.logora.fr", served.addr)
        .build()
        .unwrap();
    let error = client
        .get(format!(
            "https://app.logora.fr:{}/__doublure/health",
            served.addr.port()
        ))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{error:?}").contains("NotValidForName"),
        "{error:?}"
    );
}

#[tokio::test]
async fn without_tls_there_is_no_ca_to_fetch() {
    let served = Served::build(&Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    })
    .await;
    let response = reqwest::get(served.url("/__doublure/tls/ca.pem"))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "doublure serves no certificate of its own (no --tls, or --tls-cert given): there is no CA to trust"})
    );
}

#[tokio::test]
async fn listen_and_tls_listen_serve_http_with_h2c_and_https_at_once() {
    let served = Served::build(&Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Config::default()
    })
    .await;
    let secure = served.tls_addr.expect("an HTTPS address");
    assert_ne!(secure, served.addr);
    let ca = served.ca_pem.clone().unwrap();

    let plain = format!("http://{}", served.addr);
    let h1 = Client::new();
    assert_eq!(
        users_page(&h1, &plain).await.0,
        Version::HTTP_11,
        "plain HTTP/1.1"
    );
    let h2c = Client::builder().http2_prior_knowledge().build().unwrap();
    let (version, status, _) = users_page(&h2c, &plain).await;
    assert_eq!((version, status), (Version::HTTP_2, 200), "h2c");

    let h2 = trusting(&ca).build().unwrap();
    let (version, status, page) =
        users_page(&h2, &format!("https://localhost:{}", secure.port())).await;
    assert_eq!((version, status), (Version::HTTP_2, 200));
    // Links keep the plain address: --public-url follows --listen.
    assert!(
        page["links"]["self"]
            .as_str()
            .is_none_or(|l| l.starts_with("http://")),
        "{page}"
    );
}

#[tokio::test]
async fn the_public_url_defaults_to_https_when_the_listen_port_serves_tls() {
    let served = Served::build(&tls_config()).await;
    let ca = served.ca_pem.clone().unwrap();
    let client = trusting(&ca).build().unwrap();
    let document: Value = client
        .get(format!(
            "https://127.0.0.1:{}/__doublure/openapi/logora.json",
            served.addr.port()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document["servers"][0]["url"],
        format!("https://127.0.0.1:{}", served.addr.port())
    );
}

// ---- the timeouts, on tokio's paused clock ----

const HEAD: Duration = Duration::from_secs(5);
const BODY: Duration = Duration::from_secs(3);

fn timed_config() -> Config {
    Config {
        header_read_timeout: HEAD,
        idle_timeout: Duration::from_secs(60),
        body_read_timeout: BODY,
        ..tls_config()
    }
}

/// Reads until the peer closes (or resets), within a bounded time.
async fn until_closed(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .expect("the server closed the connection");
    out
}

fn within(elapsed: Duration, expected: Duration) -> bool {
    elapsed >= expected && elapsed < expected + Duration::from_secs(1)
}

/// A TLS session with doublure, offering only HTTP/2.
async fn h2_session(served: &Served) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let ca = served.ca_pem.as_deref().unwrap();
    for cert in rustls_pki_certs(ca) {
        roots.add(cert).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(served.addr).await.unwrap();
    let session = connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(session.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    session
}

fn rustls_pki_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_tls_handshake_that_stops_halfway_is_cut_at_the_header_read_timeout() {
    let served = Served::build(&timed_config()).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    // The header of a ClientHello record, then nothing.
    stream
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
        .await
        .unwrap();
    let started = Instant::now();
    assert!(until_closed(&mut stream).await.is_empty());
    assert!(
        within(started.elapsed(), HEAD),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_http2_header_block_is_cut_at_the_header_read_timeout() {
    let served = Served::build(&timed_config()).await;
    let mut session = h2_session(&served).await;
    let mut sent = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS, empty.
    sent.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    // HEADERS on stream 1, END_STREAM but no END_HEADERS: the header block
    // goes on in CONTINUATION frames that never come. HPACK: :method GET,
    // :scheme https, :path /.
    sent.extend_from_slice(&[0, 0, 3, 0x1, 0x1, 0, 0, 0, 1, 0x82, 0x87, 0x84]);
    session.write_all(&sent).await.unwrap();
    session.flush().await.unwrap();
    let started = Instant::now();
    let read = until_closed(&mut session).await;
    assert!(
        within(started.elapsed(), HEAD),
        "closed after {:?}",
        started.elapsed()
    );
    // What came was the server's SETTINGS (and its ACK of ours): no answer.
    assert!(!read.is_empty());
    assert_eq!(read[3], 0x4, "a SETTINGS frame first");
}

#[tokio::test(start_paused = true)]
async fn a_stalled_http2_body_gets_a_408_on_its_stream_at_the_body_read_timeout() {
    let served = Served::build(&timed_config()).await;
    let session = h2_session(&served).await;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(session))
            .await
            .unwrap();
    tokio::spawn(connection);
    // Half a form, then the body stops arriving (and never ends).
    let half = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Frame::data(
        Bytes::from_static(b"grant_type=client_cre"),
    ))])
    .chain(futures_util::stream::pending());
    let request = hyper::Request::post("https://localhost/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", "70")
        .body(StreamBody::new(half))
        .unwrap();
    let started = Instant::now();
    let response = sender.send_request(request).await.unwrap();
    // Not before the timeout. (When it comes is not asserted: on the
    // paused clock, the idle timer of the connection may be reached
    // first while the client's first frames are on their way.)
    assert!(
        started.elapsed() >= BODY,
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(response.status(), 408);
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({
            "error": "invalid_request",
            "error_description": "request timeout: the request body stopped arriving before its \
                                  end (--body-read-timeout); the connection is closed"
        })
    );
}

#[tokio::test]
async fn a_certificate_the_user_brings_is_served_and_no_ca_is_offered() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let served = Served::build(&Config {
        tls_cert: Some(cert),
        tls_key: Some(key),
        ..tls_config()
    })
    .await;
    assert_eq!(served.ca_pem, None);
    let client = trusting(&made.cert.pem()).build().unwrap();
    let response = client
        .get(format!(
            "https://localhost:{}/__doublure/tls/ca.pem",
            served.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_embedding_handle_serves_https_with_its_ca() {
    let doublure = doublure::Doublure::builder()
        .tls_name("app.logora.fr")
        .start()
        .await
        .unwrap();
    assert!(doublure.url().starts_with("https://127.0.0.1:"));
    let mine = doublure.namespace("tls").unwrap();
    assert!(mine.url().starts_with("https://127.0.0.1:"));
    let client = trusting(doublure.ca_pem().unwrap())
        .resolve("app.logora.fr", doublure.addr())
        .build()
        .unwrap();
    let base = format!("https://app.logora.fr:{}", doublure.addr().port());
    let (version, status, _) = users_page(&client, &base).await;
    assert_eq!((version, status), (Version::HTTP_2, 200));
}

#[tokio::test]
async fn over_http2_a_body_too_large_gets_the_apis_413_and_the_connection_serves_on() {
    let served = Served::build(&tls_config()).await;
    let client = trusting(served.ca_pem.as_deref().unwrap()).build().unwrap();
    let base = format!("https://localhost:{}", served.addr.port());
    let body = format!("grant_type=client_credentials&pad={}", "a".repeat(3 << 20));
    let length = body.len();
    let refused = client
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (refused.version(), refused.status().as_u16()),
        (Version::HTTP_2, 413)
    );
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({
            "error": "invalid_request",
            "error_description": format!("request body too large: a body of {length} bytes is over the 2097152 bytes doublure's emulated APIs accept"),
        })
    );
    // The same connection's next stream is served.
    let (version, status, _) = users_page(&client, &base).await;
    assert_eq!((version, status), (Version::HTTP_2, 200));
}
