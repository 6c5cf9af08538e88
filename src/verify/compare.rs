//! Comparing the instance's answer with doublure's: the status, the
//! headers that matter (content type, cache, pagination,
//! `WWW-Authenticate`), the error code and text, the JSON's shape (keys,
//! types, nulls) and its values. Each target's base URL is replaced by
//! `{base}` first, so absolute links compare equal.

use serde::Serialize;
use serde_json::Value;

use super::wire::Answer;

/// The headers compared, by lower-case name.
pub const HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "pragma",
    "www-authenticate",
    "link",
    "total",
    "total-count",
    "total-pages",
    "current-page",
    "page-items",
    "next-page",
];

/// Keys whose values are an error's code or text.
const ERROR_KEYS: &[&str] = &[
    "error",
    "error_description",
    "err",
    "err_class",
    "err_code",
    "err_desc",
];

/// The longest value a difference quotes (a `WWW-Authenticate` fits).
const QUOTE: usize = 200;

/// One difference between the two answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `status`, `header`, `error`, `shape`, `value` or `body`.
    pub aspect: &'static str,
    /// The header's name or the JSON path (`$.data[0].email`).
    pub at: String,
    pub real: String,
    pub doublure: String,
}

impl Difference {
    /// One line: `header www-authenticate: real "…", doublure (none)`.
    pub fn line(&self) -> String {
        if self.at.is_empty() {
            format!(
                "{}: real {}, doublure {}",
                self.aspect, self.real, self.doublure
            )
        } else {
            format!(
                "{} {}: real {}, doublure {}",
                self.aspect, self.at, self.real, self.doublure
            )
        }
    }
}

/// A side of the comparison, with the base URL its text is relative to.
pub struct Side<'a> {
    pub answer: &'a Answer,
    pub base: &'a str,
}

impl Side<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.answer
            .header(name)
            .map(|v| v.replace(self.base, "{base}"))
    }

    fn json(&self) -> Option<Value> {
        let text = String::from_utf8_lossy(&self.answer.body).replace(self.base, "{base}");
        serde_json::from_str(&text).ok()
    }
}

fn quoted(value: Option<String>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(v) if v.chars().count() > QUOTE => {
            format!("{:?}…", v.chars().take(QUOTE).collect::<String>())
        }
        Some(v) => format!("{v:?}"),
    }
}

/// Every difference between `real` and `copy`; `volatile` keys are
/// compared by type only.
pub fn compare(real: &Side<'_>, copy: &Side<'_>, volatile: &[&str]) -> Vec<Difference> {
    let mut out = Vec::new();
    if real.answer.status != copy.answer.status {
        out.push(Difference {
            aspect: "status",
            at: String::new(),
            real: real.answer.status.to_string(),
            doublure: copy.answer.status.to_string(),
        });
    }
    for name in HEADERS {
        let (r, c) = (real.header(name), copy.header(name));
        if r != c {
            out.push(Difference {
                aspect: "header",
                at: (*name).to_owned(),
                real: quoted(r),
                doublure: quoted(c),
            });
        }
    }
    match (real.json(), copy.json()) {
        (Some(r), Some(c)) => walk("$", None, &r, &c, volatile, &mut out),
        (None, None) => {
            let text =
                |s: &Side<'_>| String::from_utf8_lossy(&s.answer.body).replace(s.base, "{base}");
            let (r, c) = (text(real), text(copy));
            if r != c {
                out.push(Difference {
                    aspect: "body",
                    at: String::new(),
                    real: quoted(Some(r)),
                    doublure: quoted(Some(c)),
                });
            }
        }
        (r, c) => {
            let kind = |v: &Option<Value>, a: &Answer| match v {
                Some(_) => "JSON".to_owned(),
                None if a.body.is_empty() => "empty".to_owned(),
                None => "not JSON".to_owned(),
            };
            out.push(Difference {
                aspect: "shape",
                at: "body".to_owned(),
                real: kind(&r, real.answer),
                doublure: kind(&c, copy.answer),
            });
        }
    }
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn walk(
    path: &str,
    key: Option<&str>,
    r: &Value,
    c: &Value,
    volatile: &[&str],
    out: &mut Vec<Difference>,
) {
    let diff = |aspect, real: String, doublure: String| Difference {
        aspect,
        at: path.to_owned(),
        real,
        doublure,
    };
    match (r, c) {
        (Value::Object(ro), Value::Object(co)) => {
            for k in ro.keys().filter(|k| !co.contains_key(*k)) {
                out.push(Difference {
                    aspect: "shape",
                    at: format!("{path}.{k}"),
                    real: "present".into(),
                    doublure: "missing".into(),
                });
            }
            for k in co.keys().filter(|k| !ro.contains_key(*k)) {
                out.push(Difference {
                    aspect: "shape",
                    at: format!("{path}.{k}"),
                    real: "missing".into(),
                    doublure: "present".into(),
                });
            }
            for (k, rv) in ro {
                if let Some(cv) = co.get(k) {
                    walk(&format!("{path}.{k}"), Some(k), rv, cv, volatile, out);
                }
            }
        }
        (Value::Array(ra), Value::Array(ca)) => {
            if ra.len() != ca.len() {
                out.push(diff(
                    "value",
                    format!("{} items", ra.len()),
                    format!("{} items", ca.len()),
                ));
            }
            for (i, (rv, cv)) in ra.iter().zip(ca).enumerate() {
                walk(&format!("{path}[{i}]"), None, rv, cv, volatile, out);
            }
        }
        _ if type_name(r) != type_name(c) => {
            out.push(diff("shape", type_name(r).into(), type_name(c).into()));
        }
        _ if key.is_some_and(|k| volatile.contains(&k)) => {}
        _ if r != c => {
            let aspect = if key.is_some_and(|k| ERROR_KEYS.contains(&k)) {
                "error"
            } else {
                "value"
            };
            let show = |v: &Value| match v {
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            out.push(diff(aspect, quoted(show(r)), quoted(show(c))));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn diff(r: &Answer, c: &Answer, volatile: &[&str]) -> Vec<String> {
        compare(
            &Side {
                answer: r,
                base: "https://real.test",
            },
            &Side {
                answer: c,
                base: "http://127.0.0.1:1",
            },
            volatile,
        )
        .iter()
        .map(Difference::line)
        .collect()
    }

    #[test]
    fn links_relative_to_each_base_compare_equal() {
        let r = answer(
            200,
            &[(
                "link",
                "<https://real.test/api/v1/users?page=2>; rel=\"next\"",
            )],
            "{}",
        );
        let c = answer(
            200,
            &[(
                "link",
                "<http://127.0.0.1:1/api/v1/users?page=2>; rel=\"next\"",
            )],
            "{}",
        );
        assert!(diff(&r, &c, &[]).is_empty());
    }

    #[test]
    fn status_header_error_shape_and_value_are_each_named() {
        let r = answer(
            403,
            &[("www-authenticate", "Bearer x")],
            r#"{"error":"insufficient_scope","n":1,"a":null,"only":1}"#,
        );
        let c = answer(400, &[], r#"{"error":"invalid_scope","n":2,"a":"x"}"#);
        assert_eq!(
            diff(&r, &c, &[]),
            [
                "status: real 403, doublure 400",
                "header www-authenticate: real \"Bearer x\", doublure (none)",
                "shape $.only: real present, doublure missing",
                "error $.error: real \"insufficient_scope\", doublure \"invalid_scope\"",
                "value $.n: real \"1\", doublure \"2\"",
                "shape $.a: real null, doublure string",
            ]
        );
    }

    #[test]
    fn volatile_keys_are_compared_by_type_only() {
        let r = answer(200, &[], r#"{"access_token":"a","expires_in":7200}"#);
        let c = answer(200, &[], r#"{"access_token":"b","expires_in":"x"}"#);
        assert_eq!(
            diff(&r, &c, &["access_token", "expires_in"]),
            ["shape $.expires_in: real number, doublure string"]
        );
    }

    #[test]
    fn an_empty_body_against_json_is_a_shape_difference() {
        let r = answer(401, &[], "");
        let c = answer(401, &[], "{}");
        assert_eq!(diff(&r, &c, &[]), ["shape body: real empty, doublure JSON"]);
    }
}
