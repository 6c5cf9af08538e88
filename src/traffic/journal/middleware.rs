//! The middleware on the emulated APIs that records each call once it is
//! answered, or once its client gave up on it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::fold::{RefusalLog, log};
use super::recorded::{Recorded, Said};
use super::redact::{
    MAX_OUTCOME, Redactor, cut, cut_header, headers_len, push_redacted_headers, redacted,
    redacted_head,
};
use super::ring::{Journal, REFUSED_TARGET};
use crate::clock::Clock;
use crate::config::Settings;
use crate::logora::Logora;
use crate::outcome::Outcome;
use crate::traffic::faults::Faults;
use crate::traffic::{CLIENT_CLOSED, Delay};
use crate::wcs::Wcs;

/// What the journal middleware needs: where to record, the clock that
/// dates entries, and the namespace's APIs, whose data holds the secrets
/// to keep out.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub journal: Arc<Journal>,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    pub faults: Arc<Faults>,
    pub logora: Logora,
    pub wcs: Wcs,
    /// Where the server folds repeated refusals in its log.
    pub refusals: Arc<RefusalLog>,
    /// The namespace's CORS, answered here rather than by a layer of its
    /// own (one service fewer per call), refusals of this middleware
    /// included: a browser demo reads a 503 of the budget like any answer.
    pub cors: crate::cors::Cors,
    /// The limits, then the faults, applied here too, in that order,
    /// inside the journal and its CORS: three layers' work for the price of
    /// one (each layer boxes the rest of the stack, and its future, per
    /// call).
    pub limits: crate::boundary::Limits,
    pub injector: crate::traffic::faults::Injector,
}

/// What is known of a call before its answer: enough to record it
/// whether it is answered or abandoned.
struct Pending {
    recorder: Arc<Recorder>,
    started: Instant,
    at: DateTime<Utc>,
    method: Method,
    version: Version,
    /// The request's target, a line break, its headers ([`Recorded::head`]
    /// before the redaction of known secrets).
    head: String,
    target_len: usize,
    delay: Option<Arc<Delay>>,
    done: bool,
}

impl Pending {
    pub(super) fn finish(&mut self, status: u16, outcome: Option<Outcome>) {
        self.done = true;
        let redactor = self.recorder.redactor();
        let (head, target_len) =
            redacted_head(&redactor, std::mem::take(&mut self.head), self.target_len);
        let recorded = Recorded {
            id: 0,
            at: self.at,
            method: self.method.clone(),
            version: self.version,
            head,
            target_len,
            status,
            duration_ms: millis(self.started.elapsed()),
            outcome: outcome.map(|o| match o {
                Outcome::Text(text) => Said::Text(redacted(&redactor, text, MAX_OUTCOME)),
                Outcome::Later(write) => Said::Later(write, Arc::clone(&redactor)),
            }),
            matcher_bytes: 0,
        };
        log(&recorded, &self.recorder.refusals);
        self.recorder.journal.push(recorded);
    }
}

impl Drop for Pending {
    /// The client closed the connection before the answer: hyper drops the
    /// call, and this records it.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let held = self
            .delay
            .as_ref()
            .and_then(|d| d.note())
            .map(|why| format!(" {why}"))
            .unwrap_or_default();
        let outcome = format!(
            "client closed the connection after {} ms{held}",
            self.started.elapsed().as_millis()
        );
        self.finish(CLIENT_CLOSED, Some(Outcome::Text(outcome)));
    }
}

fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Middleware on the emulated APIs: records each request once answered,
/// or once abandoned by its client.
pub async fn record(
    State(recorder): State<Arc<Recorder>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let at = recorder.clock.now();
    // The memory budget: one load when there is room, the usual case.
    // Past it, this namespace's oldest entries go first, then the
    // largest journals' of the whole server.
    if recorder.journal.budget_short()
        && !recorder.journal.make_room()
        && !recorder.journal.reclaim()
    {
        return refuse(&recorder, request, at, started).await;
    }
    // Only a call that fault injection may hold back needs a place to say
    // why: the usual call allocates nothing for it.
    let delay = recorder.faults_may_fire(&request).then(|| {
        let delay = Arc::new(Delay::default());
        request.extensions_mut().insert(Arc::clone(&delay));
        delay
    });
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |pq| pq.as_str());
    let mut head = String::with_capacity(target.len() + 1 + headers_len(request.headers()));
    head.push_str(target);
    head.push('\n');
    // Values that will be cut are redacted before: a cut can leave the
    // start of a secret that the whole entry's redaction would miss.
    let redactor = cut_header(request.headers()).then(|| recorder.redactor());
    push_redacted_headers(&mut head, request.headers(), redactor.as_deref());
    let mut pending = Pending {
        started,
        at,
        method: request.method().clone(),
        version: request.version(),
        target_len: target.len(),
        head,
        delay,
        recorder,
        done: false,
    };
    let mut response = if pending.method == Method::OPTIONS {
        pending.recorder.cors.preflight(request.headers())
    } else {
        let origin = pending.recorder.cors.allow_origin(request.headers());
        let recorder = &pending.recorder;
        let mut response = crate::boundary::guard_then(recorder.limits, request, |request| {
            crate::traffic::faults::inject_then(&recorder.injector, request, |request| {
                next.run(request)
            })
        })
        .await;
        pending.recorder.cors.apply(origin, &mut response);
        response
    };
    let outcome = response.extensions_mut().remove::<Outcome>();
    pending.finish(response.status().as_u16(), outcome);
    response
}

/// Refuses a call the memory budget has no room for, once every journal
/// of the server has given back all it could: a 503 with
/// `Retry-After` in the format of the call's API (as an injected 503 fault
/// answers, and as an overloaded service would), and a small entry that
/// says why.
async fn refuse(
    recorder: &Recorder,
    request: Request,
    at: DateTime<Utc>,
    started: Instant,
) -> Response {
    let budget = recorder.journal.budget();
    budget.note_refused();
    let refusal = crate::traffic::faults::error_response(
        request.uri().path(),
        StatusCode::SERVICE_UNAVAILABLE,
        Some(1),
    );
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |pq| pq.as_str());
    // Redacted whole before the cut, which could leave a secret's start.
    let redactor = recorder.redactor();
    let mut head = cut(&redactor.redact_target(target), REFUSED_TARGET).into_owned();
    let target_len = head.len();
    head.push('\n');
    head.shrink_to_fit();
    let method = request.method().clone();
    let version = request.version();
    let response = recorder.cors.answer(&request, refusal);
    let recorded = Recorded {
        id: 0,
        at,
        method,
        head,
        target_len,
        status: response.status().as_u16(),
        duration_ms: millis(started.elapsed()),
        outcome: Some(Said::Text(format!(
            "refused: the memory budget is spent (--memory-budget {} bytes, every namespace \
             together) and no journal can give enough back (what is left is held by calls in \
             flight, streams, nonces or refusals); retry later",
            budget.limit()
        ))),
        matcher_bytes: 0,
        version,
    };
    log(&recorded, &recorder.refusals);
    recorder.journal.push_refusal(recorded);
    response
}

impl Recorder {
    /// The matcher of the secrets the namespace's data holds now.
    pub(super) fn redactor(&self) -> Arc<Redactor> {
        self.journal.redactor(
            &self.logora.data.get(),
            &self.wcs.data.get(),
            self.settings.admin_token.as_deref(),
        )
    }

    fn faults_may_fire(&self, request: &Request) -> bool {
        self.faults.may_act_on(&self.settings, request.headers())
    }
}
