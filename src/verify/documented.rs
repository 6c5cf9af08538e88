//! Differences doublure keeps on purpose, each with its section of
//! docs/fidelity.md: verify reports them as "documented", with the
//! reason, not as failures.

use super::compare::Difference;

/// One documented difference.
#[derive(Debug)]
pub struct Documented {
    /// Probes it applies to (names, or prefixes ending in `.`).
    pub probes: &'static [&'static str],
    /// Whether this difference of such a probe is the documented one.
    pub matches: fn(&Difference) -> bool,
    /// Whether it applies only to a copy made by `fixtures import`.
    pub imported_only: bool,
    /// The section of docs/fidelity.md.
    pub section: &'static str,
    pub reason: &'static str,
}

/// The table.
pub const DOCUMENTED: &[Documented] = &[
    Documented {
        probes: &["users.no-token", "users.bad-token", "scope.missing"],
        matches: |d| d.aspect == "shape" && d.at == "body" && d.real == "empty",
        imported_only: false,
        section: "401 and 403 bodies on /api/v1",
        reason: "Doorkeeper sends no body by default and Logora's own rendering is not public; doublure sends Doorkeeper's serialisation",
    },
    Documented {
        probes: &["token.", "token-info.", "introspect.", "revoke."],
        matches: |d| {
            d.aspect == "header"
                && d.at == "cache-control"
                && d.real.contains("no-store")
                && d.doublure == "\"no-store\""
        },
        imported_only: false,
        section: "Cache and content-type headers of /oauth answers",
        reason: "Rails keeps only no-store of Doorkeeper's \"no-store, no-cache\"; a stack that sends both means the same to every client",
    },
    Documented {
        probes: &["users.bad-api-key"],
        matches: |_| true,
        imported_only: false,
        section: "Bad `api_key`, and `api_key` with a token",
        reason: "Logora's answer to an unknown api_key is not public; doublure answers 401 in Logora's failure envelope",
    },
    Documented {
        probes: &["users.page-past-end"],
        matches: |d| matches!(d.aspect, "status" | "shape" | "value" | "error" | "header"),
        imported_only: false,
        section: "`page-items` and a page past the end",
        reason: "what a page past the end gives is pagy's overflow setting, the instance's own; doublure answers pagy's empty page",
    },
    Documented {
        probes: &["users.is-expert", "users.is-selected"],
        matches: |_| true,
        imported_only: true,
        section: "Expert and selected users",
        reason: "the users list does not say who is expert or selected, so an imported copy marks no one",
    },
    Documented {
        probes: &["directory.", "user.", "forms.", "drafts.", "old."],
        matches: |d| {
            d.aspect == "header"
                && d.at == "content-type"
                && d.real.starts_with("\"application/json")
                && d.doublure == "\"application/json\""
        },
        imported_only: false,
        section: "JSON spacing and content type",
        reason: "w.c.s.'s charset is unconfirmed; doublure sends json.dumps' answer as application/json",
    },
    Documented {
        probes: &["forms.", "drafts.", "directory.user-forms", "old."],
        matches: |d| d.aspect == "value" && d.at.ends_with(".form_receipt_date"),
        imported_only: false,
        section: "French dates",
        reason: "form_receipt_date follows the site's locale; doublure formats it as a French site does",
    },
];

fn applies(probes: &[&str], probe: &str) -> bool {
    probes
        .iter()
        .any(|p| *p == probe || (p.ends_with('.') && probe.starts_with(p)))
}

/// The documented entry `difference` of `probe` is, if any; `imported`
/// says whether the copy was made by `fixtures import`.
pub fn find(probe: &str, difference: &Difference, imported: bool) -> Option<&'static Documented> {
    DOCUMENTED.iter().find(|d| {
        (imported || !d.imported_only) && applies(d.probes, probe) && (d.matches)(difference)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(aspect: &'static str, at: &str, real: &str, doublure: &str) -> Difference {
        Difference {
            aspect,
            at: at.into(),
            real: real.into(),
            doublure: doublure.into(),
        }
    }

    #[test]
    fn an_empty_401_body_is_documented_and_another_error_is_not() {
        let empty = d("shape", "body", "empty", "JSON");
        assert_eq!(
            find("users.no-token", &empty, false).map(|e| e.section),
            Some("401 and 403 bodies on /api/v1")
        );
        assert!(find("users.first-page", &empty, false).is_none());
        assert!(find("users.no-token", &d("status", "", "403", "401"), false).is_none());
    }

    #[test]
    fn the_cache_header_is_documented_on_oauth_probes_only() {
        let cache = d(
            "header",
            "cache-control",
            "\"no-store, no-cache\"",
            "\"no-store\"",
        );
        assert!(find("token.valid", &cache, false).is_some());
        assert!(find("users.first-page", &cache, false).is_none());
    }

    #[test]
    fn the_expert_filter_is_documented_for_an_imported_copy_only() {
        let count = d("value", "$.data", "3 items", "0 items");
        assert!(find("users.is-expert", &count, true).is_some());
        assert!(find("users.is-expert", &count, false).is_none());
    }

    #[test]
    fn a_wcs_charset_and_a_receipt_date_in_another_locale_are_documented() {
        let charset = d(
            "header",
            "content-type",
            "\"application/json; charset=utf-8\"",
            "\"application/json\"",
        );
        assert!(find("forms.full", &charset, false).is_some());
        assert!(find("users.first-page", &charset, false).is_none());
        let date = d(
            "value",
            "$[0].form_receipt_date",
            "\"2014-03-28\"",
            "\"28/03/2014\"",
        );
        assert!(find("forms.default", &date, false).is_some());
        assert!(find("forms.default", &d("value", "$[0].title", "a", "b"), false).is_none());
    }

    #[test]
    fn every_section_named_is_a_heading_of_the_fidelity_document() {
        let doc = include_str!("../../docs/fidelity.md");
        for entry in DOCUMENTED {
            assert!(
                doc.contains(&format!("### {}\n", entry.section)),
                "{}",
                entry.section
            );
        }
    }
}
