//! What verify found, and its three forms: a table for people, JSON, and
//! JUnit XML for a CI's test view. Every text is redacted of the secrets
//! and tokens of the run before it is shown.

use serde::Serialize;

use super::compare::Difference;

/// A probe's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Match,
    /// Every difference is one doublure keeps on purpose.
    Documented {
        reasons: Vec<String>,
    },
    Differs {
        differences: Vec<Difference>,
    },
    /// Not sent (or not to both); the reason says why.
    NotChecked {
        why: String,
    },
}

/// One probe's line.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub probe: &'static str,
    pub sends: &'static str,
    /// `200 application/json`, or empty when not sent.
    pub real: String,
    pub doublure: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl ProbeResult {
    /// The difference in one line (empty for a match).
    pub fn line(&self) -> String {
        match &self.verdict {
            Verdict::Match => String::new(),
            Verdict::Documented { reasons } => reasons.join("; "),
            Verdict::Differs { differences } => match differences.as_slice() {
                [one] => one.line(),
                [first, rest @ ..] => format!("{} (and {} more)", first.line(), rest.len()),
                [] => String::new(),
            },
            Verdict::NotChecked { why } => why.clone(),
        }
    }

    fn verdict_word(&self) -> &'static str {
        match self.verdict {
            Verdict::Match => "match",
            Verdict::Documented { .. } => "documented",
            Verdict::Differs { .. } => "DIFFERS",
            Verdict::NotChecked { .. } => "not checked",
        }
    }
}

/// The Doorkeeper profile that matches the instance best.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub profile: String,
    /// Probes whose verdict changed with the profile.
    pub decided_by: Vec<Decider>,
}

/// A probe that told the profiles apart, and the profiles it matched
/// under.
#[derive(Debug, Clone, Serialize)]
pub struct Decider {
    pub probe: String,
    pub matches: Vec<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub api: &'static str,
    /// The instance's base URL (no credentials in it: verify refuses
    /// URLs that carry any).
    pub url: String,
    /// The Doorkeeper profile doublure was compared with (Logora only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doorkeeper: Option<String>,
    pub results: Vec<ProbeResult>,
    /// Why verify stopped before the end, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

impl Report {
    fn count(&self, word: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.verdict_word() == word)
            .count()
    }

    /// 0 when every probe checked matches or differs as documented, at
    /// least one was, and verify ran to the end; 1 otherwise: a run that
    /// compared nothing proves nothing.
    pub fn exit_code(&self) -> u8 {
        let compared = self.count("match") + self.count("documented");
        u8::from(self.count("DIFFERS") > 0 || self.stopped.is_some() || compared == 0)
    }

    /// The closing line of the table.
    fn summary(&self) -> String {
        format!(
            "{} probes: {} match, {} documented, {} differ, {} not checked",
            self.results.len(),
            self.count("match"),
            self.count("documented"),
            self.count("DIFFERS"),
            self.count("not checked"),
        )
    }

    /// The human table: probe, real, doublure, verdict, difference.
    pub fn table(&self) -> String {
        let head = ["probe", "real", "doublure", "verdict", "difference"];
        let rows: Vec<[String; 5]> = self
            .results
            .iter()
            .map(|r| {
                [
                    r.probe.to_owned(),
                    r.real.clone(),
                    r.doublure.clone(),
                    r.verdict_word().to_owned(),
                    r.line(),
                ]
            })
            .collect();
        let mut widths = head.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row).take(4) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i < 4 {
                    s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                } else {
                    s.push_str(cell);
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = format!("doublure verify {} {}\n", self.api, self.url);
        if let Some(p) = &self.doorkeeper {
            out.push_str(&format!("compared with Doorkeeper profile {p}\n"));
        }
        out.push_str(&line(head));
        out.push('\n');
        for row in &rows {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
            out.push('\n');
        }
        if let Some(why) = &self.stopped {
            out.push_str(&format!("stopped: {why}\n"));
        }
        if let Some(s) = &self.suggestion {
            out.push_str(&format!("best matching Doorkeeper profile: {}", s.profile));
            if s.decided_by.is_empty() {
                out.push_str(" (no probe told the profiles apart)\n");
            } else {
                let by: Vec<String> = s
                    .decided_by
                    .iter()
                    .map(|d| {
                        let ok = if d.matches.is_empty() {
                            "none".to_owned()
                        } else {
                            d.matches.join(", ")
                        };
                        format!("{} matches {ok}", d.probe)
                    })
                    .collect();
                out.push_str(&format!(", decided by: {}\n", by.join("; ")));
            }
        }
        out.push_str(&self.summary());
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// JUnit XML: one test case per probe; a difference is a failure, a
    /// probe not checked is skipped, a documented difference passes with
    /// its reason in `system-out`.
    pub fn junit(&self) -> String {
        let suite = format!("doublure verify {}", self.api);
        let mut cases = String::new();
        for r in &self.results {
            cases.push_str(&format!(
                "    <testcase classname=\"verify.{}\" name=\"{}\" time=\"0\">",
                self.api,
                xml(r.probe)
            ));
            match &r.verdict {
                Verdict::Match => {}
                Verdict::Documented { .. } => cases.push_str(&format!(
                    "\n      <system-out>documented: {}</system-out>\n    ",
                    xml(&r.line())
                )),
                Verdict::Differs { differences } => {
                    let all: Vec<String> = differences.iter().map(Difference::line).collect();
                    cases.push_str(&format!(
                        "\n      <failure message=\"{}\" type=\"difference\">{}</failure>\n    ",
                        xml(&r.line()),
                        xml(&all.join("\n"))
                    ));
                }
                Verdict::NotChecked { why } => cases.push_str(&format!(
                    "\n      <skipped message=\"{}\"/>\n    ",
                    xml(why)
                )),
            }
            cases.push_str("</testcase>\n");
        }
        let mut props = String::new();
        if let Some(why) = &self.stopped {
            props.push_str(&format!(
                "      <property name=\"stopped\" value=\"{}\"/>\n",
                xml(why)
            ));
        }
        if let Some(s) = &self.suggestion {
            props.push_str(&format!(
                "      <property name=\"doorkeeper_profile\" value=\"{}\"/>\n",
                xml(&s.profile)
            ));
        }
        let props = if props.is_empty() {
            String::new()
        } else {
            format!("    <properties>\n{props}    </properties>\n")
        };
        let (tests, failures, skipped) = (
            self.results.len(),
            self.count("DIFFERS"),
            self.count("not checked"),
        );
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"doublure verify\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n  \
             <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">\n\
             {props}{cases}  </testsuite>\n</testsuites>\n"
        )
    }

    /// Replaces every secret in every text of the report.
    pub fn redact(&mut self, secrets: &[String]) {
        let clean = |s: &mut String| {
            for secret in secrets.iter().filter(|s| s.len() >= 4) {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "[redacted]");
                }
            }
        };
        clean(&mut self.url);
        for r in &mut self.results {
            clean(&mut r.real);
            clean(&mut r.doublure);
            match &mut r.verdict {
                Verdict::Documented { reasons } => reasons.iter_mut().for_each(clean),
                Verdict::Differs { differences } => {
                    for d in differences {
                        clean(&mut d.at);
                        clean(&mut d.real);
                        clean(&mut d.doublure);
                    }
                }
                Verdict::NotChecked { why } => clean(why),
                Verdict::Match => {}
            }
        }
        if let Some(why) = &mut self.stopped {
            clean(why);
        }
    }
}

/// `text` escaped for XML text and attributes; characters XML 1.0 cannot
/// hold become U+FFFD.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            api: "logora",
            url: "https://real.test".into(),
            doorkeeper: Some("5.9.0".into()),
            results: vec![
                ProbeResult {
                    probe: "token.valid",
                    sends: "",
                    real: "200 application/json".into(),
                    doublure: "200 application/json".into(),
                    verdict: Verdict::Match,
                },
                ProbeResult {
                    probe: "users.no-token",
                    sends: "",
                    real: "401".into(),
                    doublure: "401 application/json".into(),
                    verdict: Verdict::Differs {
                        differences: vec![Difference {
                            aspect: "error",
                            at: "$.error".into(),
                            real: "\"<a & 'b'> TOPSECRET\"".into(),
                            doublure: "\"x\"".into(),
                        }],
                    },
                },
                ProbeResult {
                    probe: "revoke.own-token",
                    sends: "",
                    real: String::new(),
                    doublure: String::new(),
                    verdict: Verdict::NotChecked {
                        why: "writes: needs --allow-writes".into(),
                    },
                },
            ],
            stopped: None,
            suggestion: None,
        }
    }

    #[test]
    fn a_difference_fails_and_the_exit_code_is_one() {
        assert_eq!(report().exit_code(), 1);
        let mut r = report();
        r.results.remove(1);
        assert_eq!(r.exit_code(), 0);
        r.stopped = Some("the instance answered 503".into());
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn a_run_that_compared_nothing_fails_with_exit_code_one() {
        let mut r = report();
        r.results
            .retain(|x| matches!(x.verdict, Verdict::NotChecked { .. }));
        assert_eq!(r.exit_code(), 1);
        r.results.clear();
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn junit_escapes_text_and_counts_failures_and_skips() {
        let x = report().junit();
        assert!(
            x.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
            "{x}"
        );
        assert!(x.contains("&lt;a &amp; &apos;b&apos;&gt;"), "{x}");
        assert!(
            x.contains("<skipped message=\"writes: needs --allow-writes\"/>"),
            "{x}"
        );
    }

    #[test]
    fn redaction_reaches_every_difference() {
        let mut r = report();
        r.redact(&["TOPSECRET".into()]);
        assert!(!r.json().contains("TOPSECRET"));
        assert!(r.table().contains("[redacted]"));
    }

    #[test]
    fn the_table_has_one_line_per_probe_and_a_summary() {
        let t = report().table();
        assert!(
            t.lines()
                .any(|l| l.starts_with("token.valid") && l.ends_with("match")),
            "{t}"
        );
        assert!(
            t.ends_with("3 probes: 1 match, 0 documented, 1 differ, 1 not checked"),
            "{t}"
        );
    }
}
