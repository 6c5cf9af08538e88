//! Python `json.dumps` rendering (w.c.s. answers with its defaults):
//! separators `", "` and `": "`, every non-ASCII character escaped as
//! `\uXXXX` (surrogate pairs beyond the BMP), keys in insertion order.

use serde_json::Value;

/// `json.dumps(value)` as Python writes it.
pub fn dumps(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write(&mut out, value);
    out
}

/// Appends `value` rendered by [`dumps`] to `out`.
pub fn write(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, v);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k);
                out.push_str(": ");
                write(out, v);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_like_python_json_dumps() {
        // python3 -c 'import json; print(json.dumps({"a": [1, None, True], "é": "Modification de vos coordonnées 📞\n"}))'
        let v = json!({"a": [1, null, true], "é": "Modification de vos coordonnées 📞\n"});
        assert_eq!(
            dumps(&v),
            r#"{"a": [1, null, true], "\u00e9": "Modification de vos coordonn\u00e9es \ud83d\udcde\n"}"#
        );
        assert_eq!(
            dumps(&json!({"err": 0, "data": []})),
            r#"{"err": 0, "data": []}"#
        );
        assert_eq!(dumps(&json!("\u{1}")), r#""\u0001""#);
    }
}
