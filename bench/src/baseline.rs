//! The benchmark's baseline: a bare axum server that answers every GET with
//! the same bytes and headers doublure gave for one page, and does nothing
//! else. Every doublure figure in docs/performance.md reads as a ratio to
//! this one, measured in the same run on the same machine. Given a second
//! body and headers, it answers `POST /oauth/token` with them (doublure's token
//! JSON, for the instruction counts of the token).
//!
//! Run with:
//! `cargo run --release --features bench --bin bench-baseline -- 127.0.0.1:9090 body.json headers.txt [post.json post-headers.txt] [--tls TLS_ADDR CERT KEY]`
//! where the headers files hold `name: value` lines. `--tls` with its
//! three arguments (an address, PEM files) also serves the same answers over
//! HTTPS on `TLS_ADDR`, with the TLS doublure's `--tls` uses (rustls with
//! ring, HTTP/2 then HTTP/1.1 by ALPN, session tickets), for its HTTPS rows.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::post;

fn headers_of(path: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in std::fs::read_to_string(path).expect("headers file").lines() {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.trim()),
                HeaderValue::try_from(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    headers
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let tls = match args.iter().position(|a| a == "--tls") {
        Some(at) if args.len() == at + 4 => Some(args.split_off(at)[1..].to_vec()),
        Some(_) => Vec::new().into(),
        None => None,
    };
    if (args.len() != 4 && args.len() != 6) || tls.as_ref().is_some_and(Vec::is_empty) {
        eprintln!(
            "usage: baseline ADDR BODY_FILE HEADERS_FILE [POST_BODY_FILE POST_HEADERS_FILE] [--tls TLS_ADDR CERT_FILE KEY_FILE]"
        );
        std::process::exit(2);
    }
    let body = Bytes::from(std::fs::read(&args[2]).expect("body file"));
    let headers = headers_of(&args[3]);
    let mut app = Router::new().fallback(move || {
        let (headers, body) = (headers.clone(), body.clone());
        async move { (headers, body).into_response() }
    });
    if args.len() == 6 {
        let post_body = Bytes::from(std::fs::read(&args[4]).expect("POST body file"));
        let post_headers = headers_of(&args[5]);
        app = app.route(
            "/oauth/token",
            post(move || {
                let (headers, body) = (post_headers.clone(), post_body.clone());
                async move { (headers, body).into_response() }
            }),
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if let Some([tls_addr, cert, key]) = tls.as_deref() {
            let listener = tokio::net::TcpListener::bind(tls_addr).await.expect("bind");
            tokio::spawn(serve_tls(listener, tls_config(cert, key), app.clone()));
        }
        let listener = tokio::net::TcpListener::bind(&args[1]).await.expect("bind");
        println!(
            "baseline listening on http://{}",
            listener.local_addr().expect("addr")
        );
        axum::serve(listener, app).await.expect("serve");
    });
}

/// rustls as doublure's `--tls` sets it up.
fn tls_config(cert: &str, key: &str) -> std::sync::Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .expect("cert file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(key).expect("key file");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ticketer = rustls::crypto::ring::Ticketer::new().expect("ticketer");
    std::sync::Arc::new(config)
}

/// HTTPS, HTTP/2 or HTTP/1.1, with hyper-util's `auto` builder.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: std::sync::Arc<rustls::ServerConfig>,
    app: Router,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
        });
    }
}
