//! HTTPS: the certificate doublure serves, and the local CA behind it.
//!
//! With `--tls`, doublure is its own certificate authority, as mkcert and
//! Caddy's local CA are: a CA (made with rcgen, kept in `--tls-ca-dir` or
//! only in memory) signs, at each start, a server certificate for
//! `localhost`, `127.0.0.1`, `::1`, the `--public-url` host and every
//! `--tls-name`. A client trusts the CA once (its PEM is served at
//! `GET /__doublure/tls/ca.pem`), and then any host name doublure is
//! given, `app.logora.fr` included, checks out without an insecure switch.
//! With `--tls-cert` and `--tls-key`, the user's own chain is served and
//! doublure knows no CA.
//!
//! rustls (with ring: no OpenSSL, no cmake, the static musl build works)
//! offers HTTP/2 and HTTP/1.1 by ALPN, and resumes sessions (tickets and a
//! session cache), as a production server does.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The CA certificate's file in `--tls-ca-dir`.
pub const CA_FILE: &str = "ca.pem";
/// The CA key's file in `--tls-ca-dir`, readable by its owner only.
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// The names every generated certificate covers.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Where the served certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Signed at start by doublure's CA, kept in `ca_dir` when given.
    Generated {
        /// Host names and IP addresses beyond the local ones.
        names: Vec<String>,
        ca_dir: Option<PathBuf>,
    },
    /// The user's chain and key, PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

/// What HTTPS serves with: rustls's configuration, and the CA when
/// doublure made it.
#[derive(Clone)]
pub struct Tls {
    pub server: Arc<ServerConfig>,
    /// The CA's certificate, PEM; none for a certificate the user gave.
    pub ca_pem: Option<Arc<str>>,
    /// The file holding `ca_pem`, in `--tls-ca-dir`.
    pub ca_file: Option<PathBuf>,
    /// The names the served certificate was made for (generated only).
    pub names: Vec<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca_file", &self.ca_file)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Makes (or loads) what `source` says; an error says what to fix.
    pub fn new(source: &Source) -> Result<Self, String> {
        match source {
            Source::Generated { names, ca_dir } => {
                let authority = match ca_dir {
                    Some(dir) => Authority::in_dir(dir)?,
                    None => Authority::generate()?,
                };
                let names = all_names(names)?;
                let (chain, key) = authority.issue(&names)?;
                Ok(Self {
                    server: server_config(chain, key)?,
                    ca_pem: Some(authority.cert_pem.into()),
                    ca_file: ca_dir.as_ref().map(|dir| dir.join(CA_FILE)),
                    names,
                })
            }
            Source::Files { cert, key } => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                    .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
                if chain.is_empty() {
                    return Err(format!(
                        "--tls-cert {}: no PEM certificate in it",
                        cert.display()
                    ));
                }
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
                Ok(Self {
                    server: server_config(chain, key)?,
                    ca_pem: None,
                    ca_file: None,
                    names: Vec::new(),
                })
            }
        }
    }
}

/// The PEM of the CA kept in `dir`, made there first if `dir` has none
/// (`doublure tls ca`).
#[cfg(feature = "cli")]
pub fn ca_in_dir(dir: &Path) -> Result<String, String> {
    Authority::in_dir(dir).map(|authority| authority.cert_pem)
}

/// The local names, then `extra` ones, each once; an error names one
/// that is neither a host name (`*.` allowed first) nor an IP address.
fn all_names(extra: &[String]) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = LOCAL_NAMES.iter().map(|&n| n.to_owned()).collect();
    for name in extra {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || names.contains(&name) {
            continue;
        }
        if name.parse::<std::net::IpAddr>().is_err() && !is_host_name(&name) {
            return Err(format!(
                "--tls-name {name:?} is neither a host name (app.logora.fr, *.example.fr) nor an IP address"
            ));
        }
        names.push(name);
    }
    Ok(names)
}

fn is_host_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The host of an `http(s)://host[:port][/…]` URL (IPv6 without brackets).
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// rustls's configuration for `chain`: HTTP/2 then HTTP/1.1 by ALPN,
/// sessions resumed by tickets or the cache.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the TLS certificate and key do not go together: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| format!("TLS: {e}"))?;
    Ok(Arc::new(config))
}

/// doublure's CA: its certificate as clients trust it, and what signs.
struct Authority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    /// A CA that lives as long as the process.
    fn generate() -> Result<Self, String> {
        let key = KeyPair::generate().map_err(|e| format!("cannot make a CA key: {e}"))?;
        let params = ca_params();
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("cannot make the CA: {e}"))?;
        Ok(Self {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA kept in `dir`, made there first if `dir` has none.
    fn in_dir(dir: &Path) -> Result<Self, String> {
        let (cert_path, key_path) = (dir.join(CA_FILE), dir.join(CA_KEY_FILE));
        let shown = |path: &Path, e: &dyn std::fmt::Display| {
            format!("--tls-ca-dir: {}: {e}", path.display())
        };
        if !key_path.exists() {
            std::fs::create_dir_all(dir).map_err(|e| shown(dir, &e))?;
            let made = Self::generate()?;
            match write_private(&key_path, made.issuer.key().serialize_pem().as_bytes()) {
                Ok(()) => {
                    std::fs::write(&cert_path, &made.cert_pem)
                        .map_err(|e| shown(&cert_path, &e))?;
                    return Ok(made);
                }
                // Another doublure made it meanwhile: use theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(shown(&key_path, &e)),
            }
        }
        let key_pem = std::fs::read_to_string(&key_path).map_err(|e| shown(&key_path, &e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| shown(&key_path, &e))?;
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(|e| shown(&cert_path, &e))?;
        // The certificate is made again from the same name and key: what a
        // leaf's chain is checked against (the issuer's name and signature)
        // is the same as the file's, which clients trust.
        Ok(Self {
            cert_pem,
            issuer: Issuer::new(ca_params(), key),
        })
    }

    /// A server certificate for `names`, and its key; the chain ends with
    /// the CA.
    fn issue(
        &self,
        names: &[String],
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
        let mut params = CertificateParams::new(names.to_vec())
            .map_err(|e| format!("--tls-name: not a host name or IP address: {e}"))?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "doublure");
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(|e| format!("cannot make a TLS key: {e}"))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| format!("cannot sign the TLS certificate: {e}"))?;
        let ca = CertificateDer::from_pem_slice(self.cert_pem.as_bytes())
            .map_err(|e| format!("the CA certificate cannot be read: {e}"))?;
        let key = PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| format!("cannot use the TLS key: {e}"))?;
        Ok((vec![cert.der().clone(), ca], key))
    }
}

/// The CA's name and powers; the same at every start, so a CA kept in a
/// directory signs as the one its certificate names.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "doublure");
    name.push(DnType::CommonName, "doublure local CA");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Writes a new file only its owner can read; fails if it exists.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_names_come_first_and_each_name_once() {
        let names = all_names(&["App.Logora.fr.".into(), "localhost".into(), " ".into()]).unwrap();
        assert_eq!(names, ["localhost", "127.0.0.1", "::1", "app.logora.fr"]);
    }

    #[test]
    fn a_url_host_is_found_with_or_without_port_and_brackets() {
        assert_eq!(
            url_host("https://app.logora.fr/x").as_deref(),
            Some("app.logora.fr")
        );
        assert_eq!(
            url_host("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("http://[::1]:8443/a").as_deref(), Some("::1"));
        assert_eq!(url_host("https://"), None);
    }

    #[test]
    fn a_ca_kept_in_a_directory_is_the_same_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let source = Source::Generated {
            names: Vec::new(),
            ca_dir: Some(dir.path().join("ca")),
        };
        let first = Tls::new(&source).unwrap();
        let second = Tls::new(&source).unwrap();
        assert_eq!(first.ca_pem, second.ca_pem);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ca").join(CA_FILE)).unwrap(),
            &*first.ca_pem.unwrap()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("ca").join(CA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_name_that_is_no_host_name_is_refused_with_the_flag_named() {
        let source = Source::Generated {
            names: vec!["not a host".into()],
            ca_dir: None,
        };
        let error = Tls::new(&source).unwrap_err();
        assert_eq!(
            error,
            "--tls-name \"not a host\" is neither a host name (app.logora.fr, *.example.fr) nor an IP address"
        );
    }
}
