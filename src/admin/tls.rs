//! The CA clients trust for doublure's HTTPS, as a PEM file: open, like
//! health, since a certificate is no secret and a client needs it before
//! it can make any other call over TLS.

use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::AdminError;

/// The CA's PEM, when doublure made the certificate it serves.
#[derive(Debug, Clone)]
pub(super) struct CaPem(pub Option<Arc<str>>);

/// The media type of a PEM certificate (RFC 7468 names none; this is the
/// one curl, browsers and mkcert's users meet).
const PEM: &str = "application/x-pem-file";

#[utoipa::path(get, path = "/__doublure/tls/ca.pem", tag = "meta",
    responses(
        (status = 200, description = "The certificate of doublure's CA (PEM), which signed the certificate it serves with --tls: trust it in the client (curl --cacert, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS)", content_type = "application/x-pem-file", body = String),
        (status = 404, description = "doublure serves no certificate of its own: no --tls, or --tls-cert given", body = Object, example = json!({"error": "doublure serves no certificate of its own (no --tls, or --tls-cert given): there is no CA to trust"}))
    ))]
pub(super) async fn ca_pem(Extension(CaPem(pem)): Extension<CaPem>) -> Response {
    match pem {
        Some(pem) => ([(header::CONTENT_TYPE, PEM)], pem.to_string()).into_response(),
        None => AdminError::NotFound(
            "doublure serves no certificate of its own (no --tls, or --tls-cert given): there is \
             no CA to trust"
                .to_owned(),
        )
        .into_response(),
    }
}
