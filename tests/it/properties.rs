//! Property tests: arbitrary bytes and strings into every pure parser a
//! client can reach (the w.c.s. signed query, Python's `int()` and
//! `strptime`, the w.c.s. listing parameters, Logora's pagination and OAuth
//! parameters, the `X-Doublure-Fault` header, fixture JSON). None may
//! panic; where a stronger property is cheap and true (a URL signed by
//! `sign_url` verifies, a number printed then parsed is the same number),
//! it is asserted too.
//!
//! Each property runs 64 cases by default, so `cargo test` stays quick;
//! `PROPTEST_CASES=5000 cargo test --test properties` searches harder.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use doublure::testing::data::Data;
use doublure::testing::data::builtin_files;
use doublure::testing::data::known_files;
use doublure::testing::logora::{auth, pagination};
use doublure::testing::state::test_now;
use doublure::testing::store::FixtureFiles;
use doublure::testing::traffic::faults::MAX_LATENCY_MS;
use doublure::testing::traffic::faults::parse_header;
use doublure::testing::wcs::auth::basic_credentials;
use doublure::testing::wcs::python::{self, PyInt};
use doublure::testing::wcs::query::{FormsQuery, UsersQuery};
use doublure::testing::wcs::signature;
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn now() -> DateTime<Utc> {
    test_now()
}

/// Query-string-like text: mostly the characters that matter to the
/// parsers (`&`, `=`, `%`, `+`), with anything else mixed in.
fn query_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z=&%+0-9A-F_.:-]{0,80}",
        any::<String>(),
        "(orig|algo|timestamp|nonce|signature|email|NameID)=[^&]{0,12}(&(orig|algo|timestamp|nonce|signature|email|NameID)=[^&]{0,12}){0,6}",
    ]
}

/// `(name, value)` pairs as a decoded query gives them.
fn pairs(names: &'static str) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((prop_oneof![names, any::<String>()], any::<String>()), 0..8)
}

const ALGOS: &[&str] = &[
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384",
    "sha3_512", "blake2b", "blake2s",
];

proptest! {
    #![proptest_config(config())]

    // ---- w.c.s. signed query ----------------------------------------------

    #[test]
    fn any_query_string_is_verified_or_refused_without_panicking(
        raw in query_text(),
        key in any::<Option<String>>(),
    ) {
        let _ = signature::parse_qs(&raw);
        let _ = signature::signed_part(&raw);
        if signature::is_signed(&raw) {
            let _ = signature::verify(&raw, now(), |_| key.clone());
        }
    }

    #[test]
    fn a_url_signed_by_sign_url_verifies_within_the_window(
        path in "/[a-z/]{0,20}",
        query in prop::collection::vec(("[a-z_]{1,8}", any::<String>()), 0..4),
        orig in "[A-Za-z0-9_-]{1,12}",
        key in any::<String>(),
        algo in prop::sample::select(ALGOS),
        nonce in "[0-9a-f]{0,32}",
        skew in -30i64..=30,
    ) {
        let reserved = ["orig", "algo", "timestamp", "nonce", "signature"];
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in query.iter().filter(|(k, _)| !reserved.contains(&k.as_str())) {
            serializer.append_pair(k, v);
        }
        let query = serializer.finish();
        let url = if query.is_empty() {
            format!("http://localhost{path}")
        } else {
            format!("http://localhost{path}?{query}")
        };
        let signed = signature::sign_url(&url, &orig, &key, algo, now(), Some(&nonce)).unwrap();
        let raw = signed.split_once('?').map(|(_, q)| q).unwrap();
        prop_assert!(signature::is_signed(raw), "{signed}");
        let at = now() + TimeDelta::seconds(skew);
        let verified = signature::verify(raw, at, |o| (o == orig).then(|| key.clone()));
        let verified = verified.map_err(|e| e.explain());
        prop_assert_eq!(verified.as_ref().map(|v| v.orig.as_str()), Ok(orig.as_str()));
        prop_assert_eq!(verified.as_ref().map(|v| v.algo.as_str()), Ok(algo));
        // The same URL under another key is a mismatch, never a pass.
        let other = format!("{key}x");
        let refused = signature::verify(raw, at, |_| Some(other.clone()));
        let is_mismatch = matches!(refused, Err(signature::SignatureError::InvalidSignature { .. }));
        prop_assert!(is_mismatch);
    }

    // ---- Python's int() and strptime ----------------------------------------

    #[test]
    fn python_int_never_panics(text in any::<String>()) {
        let _ = python::int(&text);
    }

    #[test]
    fn python_int_reads_back_any_printed_i64(
        n in any::<i64>(),
        before in "[ \t\n]{0,2}",
        after in "[ \t\n]{0,2}",
    ) {
        prop_assert_eq!(python::int(&format!("{before}{n}{after}")), PyInt::Int(n));
        // Single underscores between digits are allowed, as in Python.
        let digits = n.unsigned_abs().to_string();
        let spaced: String = digits
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0).then_some('_').into_iter().chain([c]))
            .collect();
        let sign = if n < 0 { "-" } else { "" };
        prop_assert_eq!(python::int(&format!("{sign}{spaced}")), PyInt::Int(n));
    }

    #[test]
    fn strptime_never_panics(text in any::<String>()) {
        let _ = python::strptime_timestamp(&text);
        let _ = signature::parse_timestamp(&text);
    }

    #[test]
    fn strptime_reads_back_any_formatted_timestamp(
        days in 0i64..(9000 * 366),
        seconds in 0i64..86_400,
    ) {
        let start = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let at = start + TimeDelta::days(days) + TimeDelta::seconds(seconds);
        prop_assume!(at.format("%Y").to_string().len() == 4);
        let text = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        prop_assert_eq!(python::strptime_timestamp(&text), Ok(at));
    }

    // ---- w.c.s. listing parameters ---------------------------------------------

    #[test]
    fn any_forms_or_users_query_parses_or_is_a_400(raw in query_text()) {
        if let Err((error, _)) = FormsQuery::parse(&raw) {
            prop_assert_eq!(error.status().as_u16(), 400);
        }
        if let Err((error, _)) = UsersQuery::parse(&raw) {
            prop_assert_eq!(error.status().as_u16(), 400);
        }
    }

    #[test]
    fn a_non_negative_limit_and_offset_are_read_back(limit in 0i64..=i64::MAX, offset in 0i64..=i64::MAX) {
        let forms = FormsQuery::parse(&format!("limit={limit}&offset={offset}")).unwrap();
        prop_assert_eq!((forms.limit, forms.offset), (Some(limit), Some(offset)));
        let users = UsersQuery::parse(&format!("limit={limit}")).unwrap();
        prop_assert_eq!(users.limit, Some(limit));
    }

    // ---- Logora pagination and OAuth parameters -----------------------------

    #[test]
    fn any_list_parameters_give_a_page_within_bounds_or_a_message(
        given in pairs("page|per_page|countless|is_expert|is_selected|sub_application_name"),
        total in 0usize..100_000,
    ) {
        match pagination::parse(&given) {
            Ok(params) => {
                prop_assert!(params.page >= 1);
                prop_assert!((1..=pagination::MAX_PER_PAGE).contains(&params.per_page));
                let page = pagination::Page::of(total, params.page, params.per_page);
                prop_assert!(page.start <= page.end && page.end <= total);
                prop_assert!(page.items() as u64 <= params.per_page);
                let headers = pagination::headers(&page, total, params.countless, "http://h/api/v1/users", &given);
                prop_assert!(headers.iter().any(|(name, _)| *name == "link"));
            }
            Err(message) => prop_assert!(message.contains("must be"), "{}", message),
        }
    }

    #[test]
    fn any_page_and_size_are_read_back(page in 1u64..=u64::MAX, per_page in 1u64..=u64::MAX, total in any::<usize>()) {
        let given = vec![
            ("page".to_owned(), page.to_string()),
            ("per_page".to_owned(), per_page.to_string()),
        ];
        let params = pagination::parse(&given).unwrap();
        prop_assert_eq!(params.page, page);
        prop_assert_eq!(params.per_page, per_page.min(pagination::MAX_PER_PAGE));
        let p = pagination::Page::of(total, page, params.per_page);
        prop_assert!(p.start <= p.end && p.end <= total);
    }

    #[test]
    fn any_oauth_request_is_read_without_panicking(
        query in proptest::option::of(query_text()),
        content_type in prop_oneof![
            Just("application/json".to_owned()),
            Just("application/x-www-form-urlencoded".to_owned()),
            Just("text/vnd.api+json; charset=utf-8".to_owned()),
            any::<String>(),
        ],
        authorization in prop_oneof![
            "(Basic|basic|Bearer|bearer) [A-Za-z0-9+/=_-]{0,40}",
            any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ],
        body in prop_oneof![
            any::<Vec<u8>>(),
            query_text().prop_map(String::into_bytes),
            "\\{(\"[a-z_]{1,12}\": ?(\"[^\"]{0,8}\"|[0-9]{1,4}|true|null|\\[\\]|\\{\\}), ?){0,4}\\}".prop_map(String::into_bytes),
        ],
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&content_type) {
            headers.insert(HeaderName::from_static("content-type"), value);
        }
        if let Ok(value) = HeaderValue::from_str(&authorization) {
            headers.insert(HeaderName::from_static("authorization"), value);
        }
        let _ = auth::basic(&headers);
        let _ = auth::bearer_header(&headers);
        if let Ok(params) = auth::params(query.as_deref(), &headers, &body) {
            let _ = auth::client_credentials(&headers, &params);
            let pairs: Vec<(String, String)> = params
                .0
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let _ = auth::bearer_token(&headers, &pairs);
        }
        let _ = basic_credentials(&headers);
    }

    #[test]
    fn basic_credentials_are_read_back(id in "[^:]{0,16}", secret in any::<String>()) {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("authorization"),
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        prop_assert_eq!(
            basic_credentials(&headers),
            Some((id, secret))
        );
    }

    // ---- The X-Doublure-Fault header --------------------------------------------

    #[test]
    fn any_fault_header_gives_a_valid_effect_or_a_message(
        value in prop_oneof![
            "((status|latency|retry_after|drop|retry-after)(=[0-9a-z.]{0,8})?[,;] ?){0,4}",
            any::<String>(),
        ],
    ) {
        match parse_header(&value) {
            Ok(effect) => {
                prop_assert!(effect.status.is_some() || effect.latency.is_some() || effect.drop);
                if let Some(status) = effect.status {
                    prop_assert!((400..=599).contains(&status));
                }
                if let Some(latency) = effect.latency {
                    prop_assert!(latency.as_millis() <= u128::from(MAX_LATENCY_MS));
                }
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    #[test]
    fn a_fault_header_reads_back_its_status_and_latency(status in 400u16..=599, latency in 0u64..=60_000) {
        let effect = parse_header(&format!("status={status}; latency={latency}ms")).unwrap();
        prop_assert_eq!(effect.status, Some(status));
        prop_assert_eq!(effect.latency, Some(std::time::Duration::from_millis(latency)));
    }

    // ---- Fixture JSON ----------------------------------------------------------------

    #[test]
    fn any_json_as_any_collection_loads_or_names_its_problems(
        file in prop::sample::select(known_files()),
        items in prop::collection::vec(item(), 0..6),
    ) {
        let text = Value::Array(items).to_string();
        check_load(file, text)?;
    }

    #[test]
    fn any_text_as_any_collection_loads_or_names_its_problems(
        file in prop::sample::select(known_files()),
        text in prop_oneof![any::<String>(), json_value().prop_map(|v| v.to_string())],
    ) {
        check_load(file, text)?;
    }
}

/// Loads the built-in fixtures with `file` replaced by `text`: either the
/// data loads, or every problem names a file.
fn check_load(file: &str, text: String) -> Result<(), TestCaseError> {
    let mut files: BTreeMap<String, String> = builtin_files()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect();
    files.insert(file.to_owned(), text);
    if let Err(problems) = Data::load(&FixtureFiles::from_map("fx", files)) {
        prop_assert!(!problems.0.is_empty());
        for problem in &problems.0 {
            prop_assert!(problem.file.starts_with("fx/"), "{}", problem);
        }
    }
    Ok(())
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "(2026-01-15 10:00:00|2014-03-17T10:39:52|[0-9]{1,3}|draft|public)".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Field names of the fixture items (so a generated object reaches the
/// checks behind the first unknown-field error), or anything else.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "id", "uid", "name", "email", "slug", "application_id", "client_id",
            "client_secret", "scopes", "sub_applications", "sub_application_name",
            "full_name", "level", "status", "formdef_id", "user_id", "receipt_time",
            "roles", "statuses", "category_id", "access_identifier", "access_key",
            "name_identifiers", "fields", "created_at", "token_lifetime", "is_expert",
        ]).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// An item of a collection: a built-in item with one field changed to any
/// value, or any value at all.
fn item() -> impl Strategy<Value = Value> {
    let builtin: Vec<Value> = builtin_files()
        .filter_map(|(_, text)| serde_json::from_str::<Vec<Value>>(text).ok())
        .flatten()
        .collect();
    prop_oneof![
        3 => (prop::sample::select(builtin), field_name(), json_value()).prop_map(
            |(mut item, field, value)| {
                if let Value::Object(map) = &mut item {
                    map.insert(field, value);
                }
                item
            }
        ),
        1 => json_value(),
    ]
}
