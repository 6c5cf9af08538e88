//! DNS rebinding: a page on `evil.example` whose name is made to resolve
//! to 127.0.0.1 calls doublure from the page's own origin, so the browser
//! sends `Host: evil.example` and `Origin: http://evil.example`, which
//! the cross-site check ([`super::origin`]) takes for doublure's own
//! origin. The control plane (and the console, which drives it) so answers
//! only when `Host` names doublure: a loopback name or address, the
//! `--public-url` host, or one `--allowed-host` lists, whatever the port.
//! A rebinding page cannot choose the `Host` its browser sends, so with
//! this check in front "Origin equals Host" stays a sound same-origin
//! test. The same defence as Vite's and webpack-dev-server's `allowedHosts`.
//!
//! Health stays open to every host: probes (Kubernetes sends the pod's
//! address) read nothing from it.

use std::net::{IpAddr, Ipv6Addr};

use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::AdminError;
use crate::config::Settings;
use crate::traffic::journal::RefusalLog;

/// Which `Host` values the control plane answers to.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// `--allowed-host *`: any.
    any: bool,
    /// `--public-url`'s host and `--allowed-host`'s, normalized.
    named: Vec<String>,
}

impl Hosts {
    pub fn new(settings: &Settings) -> Self {
        let any = settings.allowed_hosts.iter().any(|h| h == "*");
        let mut named: Vec<String> = settings
            .allowed_hosts
            .iter()
            .filter(|h| *h != "*")
            .map(|h| host_of(h))
            .collect();
        let public = settings
            .public_url
            .split_once("://")
            .map_or("", |(_, rest)| rest);
        let authority = public.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        named.push(host_of(authority));
        named.retain(|h| !h.is_empty());
        Self { any, named }
    }

    /// Whether the check is off (`--allowed-host '*'`).
    pub fn any(&self) -> bool {
        self.any
    }

    /// Whether a call with `Host: host` may reach the control plane. A
    /// call with no host at all (HTTP/1.0 tools) names no other site, and
    /// goes on.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            return true;
        };
        if self.any {
            return true;
        }
        let host = host_of(host);
        is_loopback(&host) || self.named.contains(&host)
    }
}

/// The host part of `host[:port]` or `[v6][:port]`, lowercase, without a
/// trailing dot (`localhost.` is `localhost`).
fn host_of(authority: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        // `[::1` is no address at all.
        rest.split_once(']').map_or("", |(inside, _)| inside)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority.as_str(),
        }
    };
    host.trim_end_matches('.').to_owned()
}

/// `localhost`, a name under `.localhost` (which resolvers must keep on
/// loopback: RFC 6761), 127.0.0.0/8 or ::1.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6 == Ipv6Addr::LOCALHOST || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// The refusal of a control-plane call whose `Host` is not doublure's, or
/// `None` when it may go on. `path` is the path within its namespace.
pub fn refusal(
    hosts: &Hosts,
    refusals: &RefusalLog,
    request: &Request,
    path: &str,
) -> Option<Response> {
    // Health and the CA's certificate are public: probes and clients that
    // reach doublure under a real host name (a hosts entry for
    // app.logora.fr) read them, and neither tells or changes anything.
    if path == "/__doublure/health" || path == "/__doublure/tls/ca.pem" {
        return None;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        // An HTTP/1.1 request line in absolute form, or HTTP/2, names the
        // host in the URI instead.
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    if hosts.allows(host.as_deref()) {
        return None;
    }
    let host = host.unwrap_or_default();
    let name = host_of(&host);
    // A name of a hostile page's choosing: logged and echoed short, and
    // folded (a rebinding page fetching in a loop would flood the log).
    let shown: String = name.chars().take(253).collect();
    refusals.host_refused(request.method().as_str(), path, &shown);
    // Offered as a command line only when it is a host name or address:
    // anything else would be pasted into a shell unquoted.
    let hint = match hint_host(&shown) {
        Some(h) => format!(
            "if doublure is reached by that name, start it with --allowed-host {h} \
             (or DOUBLURE_ALLOWED_HOST={h})"
        ),
        None => "if doublure is reached by that name, start it with --allowed-host NAME \
                 (or DOUBLURE_ALLOWED_HOST=NAME)"
            .to_owned(),
    };
    Some(
        AdminError::Forbidden(format!(
            "control-plane call refused: Host {shown:?} is not doublure's (a loopback address, \
             the --public-url host, or an --allowed-host); {hint}"
        ))
        .into_response(),
    )
}

/// `host` as it may be written on a command line (an IPv6 address in
/// brackets, quoted), or `None` when it is no host name nor address.
fn hint_host(host: &str) -> Option<String> {
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Some(format!("'[{v6}]'"));
    }
    let fit = !host.is_empty()
        && !host.starts_with(['-', '.'])
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    fit.then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(public_url: &str, allowed: &[&str]) -> Hosts {
        Hosts::new(&Settings {
            public_url: public_url.to_owned(),
            allowed_hosts: allowed.iter().map(|h| (*h).to_owned()).collect(),
            ..Settings::for_tests()
        })
    }

    #[test]
    fn loopback_names_and_addresses_are_allowed_on_any_port() {
        let h = hosts("http://localhost:8080", &[]);
        for host in [
            "localhost",
            "localhost:1",
            "LOCALHOST.:8080",
            "app.localhost:3000",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.255.0.9:80",
            "[::1]",
            "[::1]:8080",
            "[::ffff:127.0.0.1]:8080",
        ] {
            assert!(h.allows(Some(host)), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "10.0.0.1:8080",
            "[::2]:8080",
            "",
            "[::1",
        ] {
            assert!(!h.allows(Some(host)), "{host}");
        }
        assert!(h.allows(None));
    }

    #[test]
    fn the_public_urls_host_and_listed_hosts_are_allowed_on_any_port() {
        let h = hosts(
            "https://user@doublure.test:8443/base",
            &["doublure", "ci.internal:9", "[fd00::1]"],
        );
        for host in [
            "doublure.test",
            "doublure.test:443",
            "doublure:8080",
            "DOUBLURE",
            "ci.internal",
            "[fd00::1]:8080",
        ] {
            assert!(h.allows(Some(host)), "{host}");
        }
        assert!(!h.allows(Some("evil.example")));
        assert!(!h.allows(Some("user")));
    }

    #[test]
    fn a_star_turns_the_check_off() {
        let h = hosts("http://localhost:8080", &["*"]);
        assert!(h.any());
        assert!(h.allows(Some("evil.example:8080")));
        assert!(!hosts("http://localhost:8080", &["doublure"]).any());
    }

    #[test]
    fn only_a_host_name_or_address_is_offered_as_a_command_line() {
        assert_eq!(hint_host("evil.example").as_deref(), Some("evil.example"));
        assert_eq!(hint_host("10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(hint_host("fd00::1").as_deref(), Some("'[fd00::1]'"));
        for hostile in [
            "",
            "a;rm -rf ~",
            "$(id)",
            "a`id`",
            "-x",
            "a b",
            "a'b",
            "é.example",
            "a:b",
        ] {
            assert_eq!(hint_host(hostile), None, "{hostile}");
        }
    }
}
