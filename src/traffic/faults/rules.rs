//! Fault rules: as a client writes them (checked on the way in), as the
//! server keeps them, and what one does to a call.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::MAX_LATENCY_MS;

/// A fault rule as sent by a client: every key optional but one effect.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RuleSpec)]
pub struct FaultRule {
    /// Only this method (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z]+$")]
    pub method: Option<String>,
    /// Only this path; a final `*` matches any path starting with the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^/")]
    pub path: Option<String>,
    /// Only calls made by this Logora client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Only w.c.s. calls signed by this `orig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig: Option<String>,
    /// Answer this status (400–599) with the API's own error body.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(minimum = 400, maximum = 599)]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with the status (0: retry at once).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    pub retry_after: Option<u64>,
    /// Delay before answering, in milliseconds (at most a minute).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(maximum = 60000)]
    pub latency_ms: Option<u64>,
    /// With `latency_ms`, and at least as long: the delay is drawn between
    /// the two.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(maximum = 60000)]
    pub latency_max_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<bool>,
    /// Fire on this share of matching calls (0 < p ≤ 1; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub probability: Option<f64>,
    /// Fire on the next N matching calls only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(minimum = 1)]
    pub count: Option<u64>,
}

/// A whole number as JSON may carry it: `5`, or `5.0`, which JSON Schema
/// (and so the document, and any client whose numbers are all floats)
/// counts as the same integer.
pub(super) fn whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let value = number.as_u64().or_else(|| {
        number
            .as_f64()
            // `u64::MAX as f64` is 2^64 itself, just out of range.
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f as u64)
    });
    value
        .and_then(|v| T::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "invalid value: {number}, expected a whole number that fits in {}",
                std::any::type_name::<T>()
            ))
        })
}

impl FaultRule {
    /// Checks the rule; the error says which key is wrong and why.
    pub fn validate(&self) -> Result<(), String> {
        let drop = self.drop.unwrap_or(false);
        if self.status.is_none() && self.latency_ms.is_none() && !drop {
            return Err("a rule needs an effect: status, latency_ms or drop: true".to_owned());
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!(
                "status {status} is not an error status (400 to 599)"
            ));
        }
        if drop && self.status.is_some() {
            return Err(
                "drop and status exclude each other: a dropped call has no status".to_owned(),
            );
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return Err("retry_after goes with a status".to_owned());
        }
        match (self.latency_ms, self.latency_max_ms) {
            (Some(min), _) if min > MAX_LATENCY_MS => {
                return Err(format!("latency_ms {min} is above {MAX_LATENCY_MS}"));
            }
            (Some(min), Some(max)) if max < min => {
                return Err(format!("latency_max_ms {max} is below latency_ms {min}"));
            }
            (_, Some(max)) if max > MAX_LATENCY_MS => {
                return Err(format!("latency_max_ms {max} is above {MAX_LATENCY_MS}"));
            }
            (None, Some(_)) => return Err("latency_max_ms goes with latency_ms".to_owned()),
            _ => {}
        }
        if let Some(p) = self.probability
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(format!("probability {p} is not in (0, 1]"));
        }
        if self.count == Some(0) {
            return Err("count 0 would never fire; give 1 or more, or leave it out".to_owned());
        }
        if let Some(method) = &self.method
            && (method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Err(format!("method {method:?} is not an HTTP method"));
        }
        if let Some(path) = &self.path
            && !path.starts_with('/')
        {
            return Err(format!("path {path:?} must start with /"));
        }
        Ok(())
    }

    pub(super) fn matches(&self, call: &Call<'_>) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(call.method))
            && self
                .path
                .as_ref()
                .is_none_or(|p| match p.strip_suffix('*') {
                    Some(prefix) => call.path.starts_with(prefix),
                    None => call.path == p,
                })
            && self
                .client_id
                .as_ref()
                .is_none_or(|c| call.client_id.as_deref() == Some(c.as_str()))
            && self
                .orig
                .as_ref()
                .is_none_or(|o| call.orig.as_deref() == Some(o.as_str()))
    }
}

/// A stored rule.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rule {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultRule,
    /// How many times it fired.
    pub fired: u64,
    /// Calls left before it stops firing, when it has a count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// What a request is, for matching.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub client_id: Option<String>,
    pub orig: Option<String>,
}

/// The fault to inject into one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effect {
    pub latency: Option<Duration>,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub drop: bool,
    /// Which rule, or the header, for the journal.
    pub source: String,
}
