//! Tests of fault rules, their header form and their draws.

use std::time::Duration;

use serde_json::json;

use super::*;

fn call<'a>(method: &'a str, path: &'a str) -> Call<'a> {
    Call {
        method,
        path,
        client_id: None,
        orig: None,
    }
}

fn spec(json: serde_json::Value) -> FaultRule {
    serde_json::from_value(json).unwrap()
}

#[test]
fn a_rule_with_a_count_fires_exactly_that_many_times() {
    let faults = Faults::new(0);
    faults
        .add(spec(
            json!({"path": "/api/v1/users", "status": 503, "count": 2}),
        ))
        .unwrap();
    let fired: Vec<bool> = (0..4)
        .map(|_| faults.decide(&call("GET", "/api/v1/users")).is_some())
        .collect();
    assert_eq!(fired, [true, true, false, false]);
    assert_eq!(faults.list()[0].remaining, Some(0));
    assert_eq!(faults.list()[0].fired, 2);
}

#[test]
fn a_path_ending_with_a_star_matches_by_prefix_and_method_is_any_case() {
    let faults = Faults::new(0);
    faults
        .add(spec(
            json!({"method": "get", "path": "/api/user*", "status": 500}),
        ))
        .unwrap();
    assert!(faults.decide(&call("GET", "/api/user/forms")).is_some());
    assert!(faults.decide(&call("POST", "/api/user/forms")).is_none());
    assert!(faults.decide(&call("GET", "/api/v1/users")).is_none());
}

#[test]
fn a_seeded_probability_gives_the_same_sequence_after_a_clear() {
    let faults = Faults::new(42);
    let rule = json!({"status": 500, "probability": 0.5});
    faults.add(spec(rule.clone())).unwrap();
    let first: Vec<bool> = (0..32)
        .map(|_| faults.decide(&call("GET", "/x")).is_some())
        .collect();
    faults.clear();
    faults.add(spec(rule)).unwrap();
    let second: Vec<bool> = (0..32)
        .map(|_| faults.decide(&call("GET", "/x")).is_some())
        .collect();
    assert_eq!(first, second);
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
}

#[test]
fn client_id_and_orig_restrict_a_rule_to_one_caller() {
    let faults = Faults::new(0);
    faults
        .add(spec(
            json!({"client_id": "API_KEY", "orig": "demo", "drop": true}),
        ))
        .unwrap();
    let mut c = call("GET", "/x");
    assert!(faults.decide(&c).is_none());
    c.client_id = Some("API_KEY".into());
    assert!(faults.decide(&c).is_none());
    c.orig = Some("demo".into());
    assert!(faults.decide(&c).unwrap().drop);
}

#[test]
fn invalid_rules_say_which_key_is_wrong() {
    let cases = [
        (
            json!({"path": "/x"}),
            "a rule needs an effect: status, latency_ms or drop: true",
        ),
        (
            json!({"status": 200}),
            "status 200 is not an error status (400 to 599)",
        ),
        (
            json!({"status": 503, "drop": true}),
            "drop and status exclude each other: a dropped call has no status",
        ),
        (
            json!({"latency_ms": 900, "latency_max_ms": 100}),
            "latency_max_ms 100 is below latency_ms 900",
        ),
        (
            json!({"status": 500, "probability": 1.5}),
            "probability 1.5 is not in (0, 1]",
        ),
        (
            json!({"status": 500, "count": 0}),
            "count 0 would never fire; give 1 or more, or leave it out",
        ),
        (
            json!({"status": 500, "path": "api"}),
            "path \"api\" must start with /",
        ),
        (
            json!({"latency_ms": 120000}),
            "latency_ms 120000 is above 60000",
        ),
    ];
    for (rule, message) in cases {
        assert_eq!(
            spec(rule.clone()).validate().unwrap_err(),
            message,
            "{rule}"
        );
    }
}

#[test]
fn whole_numbers_may_be_written_as_floats_and_nothing_else_passes() {
    let rule = spec(json!({"status": 503.0, "retry_after": 5, "latency_ms": 1e3, "count": 2.0}));
    assert_eq!(
        (rule.status, rule.retry_after, rule.latency_ms, rule.count),
        (Some(503), Some(5), Some(1000), Some(2))
    );
    for (bad, message) in [
        (
            json!({"status": 503.5}),
            "invalid value: 503.5, expected a whole number that fits in u16",
        ),
        (
            json!({"status": 70000}),
            "invalid value: 70000, expected a whole number that fits in u16",
        ),
        (
            json!({"count": -1}),
            "invalid value: -1, expected a whole number that fits in u64",
        ),
        (
            json!({"retry_after": 18446744073709551616.0_f64}),
            "invalid value: 1.8446744073709552e+19, expected a whole number that fits in u64",
        ),
        (
            json!({"latency_ms": "5"}),
            "invalid type: string \"5\", expected a JSON number",
        ),
    ] {
        let error = serde_json::from_value::<FaultRule>(bad.clone()).unwrap_err();
        assert_eq!(error.to_string(), message, "{bad}");
    }
}

#[test]
fn the_header_takes_status_latency_retry_after_and_drop() {
    let effect = parse_header("status=429; retry_after=5, latency=1.5s").unwrap();
    assert_eq!(effect.status, Some(429));
    assert_eq!(effect.retry_after, Some(5));
    assert_eq!(effect.latency, Some(Duration::from_millis(1500)));
    assert!(parse_header("drop").unwrap().drop);
    assert_eq!(
        parse_header("latency=800ms").unwrap().latency,
        Some(Duration::from_millis(800))
    );
    assert_eq!(
        parse_header("status=abc").unwrap_err(),
        "status needs a whole number, got \"abc\""
    );
    assert_eq!(
        parse_header("explode=1").unwrap_err(),
        "unknown key \"explode\" (expected status, latency, retry_after or drop)"
    );
}

#[test]
fn a_rule_its_admission_refuses_is_not_added_and_an_admitted_one_gets_the_id_admitted() {
    let faults = Faults::new(0);
    let refused = faults.add_admitted(
        spec(json!({"status": 500})),
        |p| p,
        |_| Err("no room".to_owned()),
    );
    let mut admitted = None;
    let added = faults
        .add_admitted(
            spec(json!({"status": 502})),
            |p| p,
            |id| {
                admitted = Some(id);
                Ok(())
            },
        )
        .unwrap();
    let invalid = faults.add_admitted(spec(json!({"status": 200})), |p| p, |_| panic!("admitted"));

    assert_eq!(refused.unwrap_err(), "no room");
    assert_eq!(admitted, Some(added.id));
    assert_eq!(
        invalid.unwrap_err(),
        "status 200 is not an error status (400 to 599)"
    );
    assert_eq!(faults.list().len(), 1);
}
