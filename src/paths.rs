//! Which part of doublure a path belongs to: a namespace's prefix, the
//! control plane, or one of the emulated APIs. Routing, limits and faults
//! all ask, and answer in the format of the part a path belongs to.

/// The path prefix of namespaces: `/__ns/{name}/…`.
pub const PREFIX: &str = "/__ns/";

/// Whether a path (its namespace prefix already taken off) is the control
/// plane's.
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with("/__doublure/") || path == "/__doublure"
}

/// Who a path belongs to, and so whose format an error on it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Logora's OAuth server (`/oauth/*`): Doorkeeper's error body.
    OAuth,
    /// Logora's API (`/api/v1/*`).
    Logora,
    /// w.c.s. (`/api/*` but `/api/v1`, `/user`, `/myspace/*`).
    Wcs,
    /// The control plane (`/__doublure/*`).
    Control,
    /// Nobody's path: plain text.
    Other,
}

/// The API `path` belongs to, a `/__ns/{name}/` prefix set aside.
pub fn api_of(path: &str) -> Api {
    let path = match path.strip_prefix(PREFIX) {
        Some(rest) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => path,
    };
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/__doublure") {
        Api::Control
    } else if under("/oauth") {
        Api::OAuth
    } else if under("/api/v1") {
        Api::Logora
    } else if under("/api") || under("/user") || under("/myspace") {
        Api::Wcs
    } else {
        Api::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_belongs_to_the_api_of_its_tail() {
        let cases = [
            ("/oauth/token", Api::OAuth),
            ("/oauth", Api::OAuth),
            ("/api/v1/users", Api::Logora),
            ("/api/v1", Api::Logora),
            ("/api/v10", Api::Wcs),
            ("/api/user/forms", Api::Wcs),
            ("/user", Api::Wcs),
            ("/myspace/drafts", Api::Wcs),
            ("/userland", Api::Other),
            ("/__doublure/state", Api::Control),
            ("/__ns/t1/__doublure/reset", Api::Control),
            ("/__ns/t1/oauth/token", Api::OAuth),
            ("/__ns/t1", Api::Other),
            ("/favicon.ico", Api::Other),
        ];
        for (path, api) in cases {
            assert_eq!(api_of(path), api, "{path}");
        }
    }

    #[test]
    fn the_control_plane_is_its_prefix_and_nothing_longer() {
        assert!(is_admin_path("/__doublure"));
        assert!(is_admin_path("/__doublure/health"));
        assert!(!is_admin_path("/__doublurex"));
    }
}
