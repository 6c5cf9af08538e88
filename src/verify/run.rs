//! Running a battery: each probe to the instance (paced), then to each
//! in-process copy, the answers compared; stopping at the first 429 or a
//! burst of 5xx; and naming the Doorkeeper profile that matches best.

use super::compare::{Difference, Side, compare};
use super::documented;
use super::pace::Pacer;
use super::probe::{Ctx, Probe, requests};
use super::report::{Decider, ProbeResult, Report, Suggestion, Verdict};
use super::wire::{Answer, Target};

/// 5xx answers in a row that stop verify.
const BURST: u32 = 3;

/// A copy to compare with, and the profile it follows (Logora).
pub struct Copy {
    pub profile: Option<String>,
    pub target: Target,
}

/// What to run.
pub struct Plan {
    pub api: &'static str,
    pub probes: Vec<Probe>,
    pub instance: Target,
    /// The first is the one compared; the others only help name a profile.
    pub copies: Vec<Copy>,
    pub ctx: Ctx,
    pub allow_writes: bool,
    pub rate: f64,
    /// Whether the copy was made by `fixtures import`.
    pub imported: bool,
}

enum Sent {
    Answer(Answer),
    NotChecked(String),
    Stop(String),
}

/// Sends `probe`'s requests to `target`; the last answer, learnt from.
async fn send(
    probe: &Probe,
    ctx: &mut Ctx,
    target: &Target,
    mut pacer: Option<&mut Pacer>,
    allow_writes: bool,
) -> Sent {
    let (list, writes) = match requests(probe, ctx) {
        Ok(built) => built,
        Err(why) => return Sent::NotChecked(why),
    };
    if writes && !allow_writes {
        return Sent::NotChecked(
            "sends a write (not a GET nor the token request): needs --allow-writes".into(),
        );
    }
    let mut last = None;
    for request in &list {
        if let Some(p) = pacer.as_deref_mut() {
            p.wait().await;
        }
        match target.send(request).await {
            Ok(answer) => last = Some(answer),
            Err(e) => return Sent::Stop(format!("{} could not be sent: {e}", probe.id)),
        }
    }
    match last {
        Some(answer) => {
            if let Some(learn) = probe.learn {
                learn(ctx, &answer);
            }
            Sent::Answer(answer)
        }
        None => Sent::NotChecked("sends nothing".into()),
    }
}

/// The verdict when doublure's copy could not be sent the probe the
/// instance answered.
fn doublure_failed(real: &Answer, why: String) -> Verdict {
    Verdict::Differs {
        differences: vec![Difference {
            aspect: "error",
            at: String::new(),
            real: real.summary(),
            doublure: why,
        }],
    }
}

/// The verdict on the instance's `real` answer against a copy's.
fn judge(probe: &Probe, real: &Side<'_>, copy: &Side<'_>, imported: bool) -> Verdict {
    let differences = compare(real, copy, probe.volatile);
    if differences.is_empty() {
        return Verdict::Match;
    }
    let mut reasons = Vec::new();
    let mut undocumented = Vec::new();
    for d in differences {
        match documented::find(probe.id, &d, imported) {
            Some(entry) => {
                let reason = format!("{} (docs/fidelity.md: {})", entry.reason, entry.section);
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
            None => undocumented.push(d),
        }
    }
    if undocumented.is_empty() {
        Verdict::Documented { reasons }
    } else {
        Verdict::Differs {
            differences: undocumented,
        }
    }
}

/// Runs `plan`.
pub async fn run(plan: Plan) -> (Report, Vec<String>) {
    let mut pacer = Pacer::new(plan.rate);
    let mut real_ctx = plan.ctx.clone();
    let mut copy_ctx: Vec<Ctx> = plan.copies.iter().map(|_| plan.ctx.clone()).collect();
    let mut results = Vec::new();
    // Per probe, whether each copy matched (for the profile suggestion).
    let mut matched: Vec<(&'static str, Vec<bool>)> = Vec::new();
    let mut stopped: Option<String> = None;
    let mut errors_in_row = 0;
    for probe in &plan.probes {
        let not_checked = |why: String| ProbeResult {
            probe: probe.id,
            sends: probe.sends,
            real: String::new(),
            doublure: String::new(),
            verdict: Verdict::NotChecked { why },
        };
        if let Some(why) = &stopped {
            results.push(not_checked(format!("not sent: verify stopped ({why})")));
            continue;
        }
        let real = match send(
            probe,
            &mut real_ctx,
            &plan.instance,
            Some(&mut pacer),
            plan.allow_writes,
        )
        .await
        {
            Sent::Answer(a) => a,
            Sent::NotChecked(why) => {
                results.push(not_checked(why));
                continue;
            }
            Sent::Stop(why) => {
                results.push(not_checked(why.clone()));
                stopped = Some(why);
                continue;
            }
        };
        if real.status == 429 || real.status >= 500 {
            errors_in_row = if real.status == 429 {
                BURST
            } else {
                errors_in_row + 1
            };
            let why = format!("the instance answered {}", real.status);
            let mut r = not_checked(why.clone());
            r.real = real.summary();
            results.push(r);
            if errors_in_row >= BURST {
                stopped = Some(if real.status == 429 {
                    format!("{why} to {}: it asks verify to slow down", probe.id)
                } else {
                    format!(
                        "{why} to {} and the {} probes before it",
                        probe.id,
                        BURST - 1
                    )
                });
            }
            continue;
        }
        errors_in_row = 0;
        let real_side = Side {
            answer: &real,
            base: plan.instance.base(),
        };
        let mut verdicts = Vec::new();
        let mut first_copy = String::new();
        for (i, copy) in plan.copies.iter().enumerate() {
            let verdict = match send(probe, &mut copy_ctx[i], &copy.target, None, true).await {
                Sent::Answer(a) => {
                    if i == 0 {
                        first_copy = a.summary();
                    }
                    judge(
                        probe,
                        &real_side,
                        &Side {
                            answer: &a,
                            base: copy.target.base(),
                        },
                        plan.imported,
                    )
                }
                Sent::NotChecked(why) => Verdict::NotChecked {
                    why: format!("doublure: {why}"),
                },
                // The instance answered and doublure did not: a failure of
                // doublure's, never a probe to pass over.
                Sent::Stop(why) => doublure_failed(&real, why),
            };
            verdicts.push(verdict);
        }
        matched.push((
            probe.id,
            verdicts
                .iter()
                .map(|v| matches!(v, Verdict::Match | Verdict::Documented { .. }))
                .collect(),
        ));
        results.push(ProbeResult {
            probe: probe.id,
            sends: probe.sends,
            real: real.summary(),
            doublure: first_copy,
            verdict: verdicts.into_iter().next().unwrap_or(Verdict::NotChecked {
                why: "no copy".into(),
            }),
        });
    }
    let suggestion = suggest(&plan.copies, &matched);
    let mut secrets: Vec<String> = ["client_secret", "key"]
        .iter()
        .filter_map(|k| plan.ctx.given.get(k).cloned())
        .collect();
    for ctx in std::iter::once(&real_ctx).chain(&copy_ctx) {
        for k in ["token", "public_token"] {
            secrets.extend(ctx.learnt.get(k).cloned());
        }
    }
    let report = Report {
        api: plan.api,
        url: plan.instance.base().to_owned(),
        doorkeeper: plan.copies.first().and_then(|c| c.profile.clone()),
        results,
        stopped,
        suggestion,
    };
    (report, secrets)
}

/// The profile whose copy matched the most probes (the compared one on a
/// tie), and the probes whose verdict changed with the profile.
fn suggest(copies: &[Copy], matched: &[(&'static str, Vec<bool>)]) -> Option<Suggestion> {
    let profiles: Vec<&str> = copies.iter().filter_map(|c| c.profile.as_deref()).collect();
    if profiles.len() < 2 || profiles.len() != copies.len() {
        return None;
    }
    let mut best = 0;
    let score = |i: usize| matched.iter().filter(|(_, m)| m[i]).count();
    for i in 1..profiles.len() {
        if score(i) > score(best) {
            best = i;
        }
    }
    let decided_by = matched
        .iter()
        .filter(|(_, m)| m.iter().any(|&x| x != m[0]))
        .map(|(probe, m)| {
            let ok = m
                .iter()
                .zip(&profiles)
                .filter(|(x, _)| **x)
                .map(|(_, p)| (*p).to_owned())
                .collect();
            Decider {
                probe: (*probe).to_owned(),
                matches: ok,
            }
        })
        .collect();
    Some(Suggestion {
        profile: profiles[best].to_owned(),
        decided_by,
    })
}
