//! The `X-Doublure-Fault` header: a fault for one call, written as
//! `status=503`, `latency=800ms`, `retry_after=5` or `drop`.

use std::time::Duration;

use super::FAULT_HEADER;
use super::rules::{Effect, FaultRule};

/// Parses an `X-Doublure-Fault` header: `status=503`, `latency=800ms`,
/// `retry_after=5`, `drop`, separated by `,` or `;`.
pub fn parse_header(value: &str) -> Result<Effect, String> {
    let mut spec = FaultRule::default();
    for part in value
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (key, val) = part
            .split_once('=')
            .map_or((part, None), |(k, v)| (k.trim(), Some(v.trim())));
        let number = |v: Option<&str>| -> Result<u64, String> {
            v.and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{key} needs a whole number, got {:?}", v.unwrap_or("")))
        };
        match key.to_ascii_lowercase().as_str() {
            "status" => spec.status = Some(u16::try_from(number(val)?).map_err(|e| e.to_string())?),
            "retry_after" | "retry-after" => spec.retry_after = Some(number(val)?),
            "latency" => spec.latency_ms = Some(parse_millis(val.unwrap_or(""))?),
            "drop" => match val {
                None | Some("true") | Some("1") => spec.drop = Some(true),
                Some("false") | Some("0") => spec.drop = Some(false),
                Some(other) => return Err(format!("drop takes true or false, got {other:?}")),
            },
            other => {
                return Err(format!(
                    "unknown key {other:?} (expected status, latency, retry_after or drop)"
                ));
            }
        }
    }
    spec.validate()?;
    Ok(Effect {
        latency: spec.latency_ms.map(Duration::from_millis),
        status: spec.status,
        retry_after: spec.retry_after,
        drop: spec.drop.unwrap_or(false),
        source: format!("header {FAULT_HEADER}: {value}"),
    })
}

/// `800ms`, `1.5s` or a bare number of milliseconds.
fn parse_millis(text: &str) -> Result<u64, String> {
    let bad = || format!("latency {text:?} is not a duration like 800ms or 2s");
    let (number, factor) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(bad());
    }
    Ok((value * factor).round() as u64)
}
