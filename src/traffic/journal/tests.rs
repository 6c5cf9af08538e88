//! Tests of the journal: the ring's bounds and filters, redaction and cuts.

use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Utc};

use super::recorded::Said;
use super::redact::{MAX_HEADERS, cut};
use super::*;

fn entry(path: &str, status: u16) -> Recorded {
    Recorded {
        id: 0,
        at: DateTime::<Utc>::UNIX_EPOCH,
        method: Method::GET,
        version: axum::http::Version::HTTP_11,
        head: format!("{path}\n"),
        target_len: path.len(),
        status,
        duration_ms: 0.0,
        outcome: None,
        matcher_bytes: 0,
    }
}

#[test]
fn the_journal_keeps_only_its_bound_dropping_the_oldest() {
    let journal = Journal::new(
        3,
        crate::config::JOURNAL_BYTES,
        crate::budget::MemoryBudget::unbounded(),
    );
    for i in 0..5 {
        journal.push(entry(&format!("/p{i}"), 200));
    }
    let paths: Vec<_> = journal
        .list(&JournalFilter::default())
        .into_iter()
        .map(|e| (e.id, e.path))
        .collect();
    assert_eq!(
        paths,
        [(3, "/p2".into()), (4, "/p3".into()), (5, "/p4".into())]
    );
}

#[test]
fn the_journal_keeps_only_its_bound_in_bytes() {
    let one = entry("/p0", 200).weight();
    let journal = Journal::new(
        1000,
        one * 3 + one / 2,
        crate::budget::MemoryBudget::unbounded(),
    );
    for i in 0..10 {
        journal.push(entry(&format!("/p{i}"), 200));
    }
    let ids: Vec<u64> = journal
        .list(&JournalFilter::default())
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [8, 9, 10]);
    assert!(journal.bytes() <= journal.max_bytes());
    journal.clear();
    assert_eq!(journal.bytes(), 0);
}

#[test]
fn each_secrets_matcher_kept_alive_by_later_outcomes_is_counted_once_per_run() {
    let later = |redactor: &Arc<Redactor>| {
        let mut e = entry("/api/v1/users", 200);
        e.outcome = Some(Said::Later(
            Arc::new(|| "client API_KEY".to_owned()),
            Arc::clone(redactor),
        ));
        e
    };
    let first = Arc::new(Redactor::new(vec!["API_SECRET".to_owned()]));
    let second = Arc::new(Redactor::new(vec!["OTHER_API_SECRET".to_owned()]));
    let plain = later(&first).weight();
    assert!(first.memory_usage() > std::mem::size_of::<Redactor>());
    let journal = Journal::new(
        1000,
        crate::config::JOURNAL_BYTES,
        crate::budget::MemoryBudget::unbounded(),
    );
    journal.push(later(&first));
    assert_eq!(journal.bytes(), plain + first.memory_usage());
    journal.push(later(&first));
    assert_eq!(journal.bytes(), 2 * plain + first.memory_usage());
    journal.push(later(&second));
    journal.push(later(&first));
    assert_eq!(
        journal.bytes(),
        4 * plain + 2 * first.memory_usage() + second.memory_usage()
    );
    journal.clear();
    journal.push(later(&first));
    assert_eq!(journal.bytes(), plain + first.memory_usage());
}

#[test]
fn a_journal_of_later_outcomes_stays_within_its_bytes_when_the_secrets_keep_changing() {
    let max = 64 * 1024;
    let journal = Journal::new(1000, max, crate::budget::MemoryBudget::unbounded());
    let mut kept = Vec::new();
    for i in 0..200 {
        // A new matcher per call, as when every call changes the data.
        let redactor = Arc::new(Redactor::new(
            (0..50).map(|n| format!("secret-{i}-{n}")).collect(),
        ));
        kept.push(Arc::downgrade(&redactor));
        let mut e = entry("/api/v1/users", 200);
        e.outcome = Some(Said::Later(Arc::new(|| "ok".to_owned()), redactor));
        journal.push(e);
    }
    assert!(journal.bytes() <= max);
    let alive = kept.iter().filter(|w| w.strong_count() > 0).count();
    let alive_bytes: usize = kept
        .iter()
        .filter_map(std::sync::Weak::upgrade)
        .map(|r| r.memory_usage())
        .sum();
    assert!(alive < 200, "{alive} matchers alive");
    assert!(alive_bytes <= max, "{alive_bytes} bytes of matchers alive");
}

#[test]
fn long_texts_are_cut_with_a_marker_on_a_character_boundary() {
    assert_eq!(cut("abc", 3), "abc");
    assert_eq!(cut("abcdef", 3), "abc…[cut: 3 more bytes]");
    assert_eq!(cut("aéé", 2), "a…[cut: 4 more bytes]");
    let mut headers = HeaderMap::new();
    headers.insert("x-big", "v".repeat(5000).parse().unwrap());
    let text = redacted_headers(&headers);
    assert!(text.starts_with("x-big: vvvv"), "{text}");
    assert!(text.ends_with("…[cut: 3976 more bytes]\n"), "{text}");
    let mut many = HeaderMap::new();
    for i in 0..20 {
        many.insert(
            axum::http::HeaderName::from_bytes(format!("x-{i}").as_bytes()).unwrap(),
            "v".repeat(1000).parse().unwrap(),
        );
    }
    let text = redacted_headers(&many);
    assert!(text.len() < MAX_HEADERS + 2000, "{}", text.len());
    assert!(text.contains("…: [cut: 11 more headers"), "{text}");
}

#[test]
fn filters_combine_and_limit_keeps_the_most_recent() {
    let journal = Journal::new(
        10,
        crate::config::JOURNAL_BYTES,
        crate::budget::MemoryBudget::unbounded(),
    );
    journal.push(entry("/api/v1/users", 200));
    journal.push(entry("/api/user/", 403));
    journal.push(entry("/api/v1/users", 401));
    journal.push(entry("/api/v1/users", 200));
    let filter = JournalFilter {
        path: Some("/api/v1".into()),
        status: Some(200),
        limit: Some(1),
        ..JournalFilter::default()
    };
    let ids: Vec<u64> = journal.list(&filter).iter().map(|e| e.id).collect();
    assert_eq!(ids, [4]);
}

#[test]
fn secret_headers_keep_only_their_scheme() {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "Bearer abc".parse().unwrap());
    headers.insert("authentication", "xyz".parse().unwrap());
    headers.insert("accept", "application/json".parse().unwrap());
    headers.append("cookie", "a=1".parse().unwrap());
    headers.append("cookie", "b=2".parse().unwrap());
    let mut recorded = entry("/api/user/?email=a%40b.c&signature=xyz", 200);
    recorded.head.push_str(&redacted_headers(&headers));
    assert_eq!(
        recorded.entry().headers,
        [
            ("authorization".to_owned(), "Bearer [redacted]".to_owned()),
            ("authentication".to_owned(), "[redacted]".to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
            ("cookie".to_owned(), "[redacted]".to_owned()),
            ("cookie".to_owned(), "[redacted]".to_owned()),
        ]
    );
    assert_eq!(recorded.entry().path, "/api/user/");
    assert_eq!(
        recorded.entry().query.as_deref(),
        Some("email=a%40b.c&signature=[redacted]")
    );
}

#[test]
fn known_secrets_are_redacted_as_written_and_as_encoded() {
    let redactor = Redactor::new(vec!["API_SECRET".into(), "pa ss+wörd".into(), "abc".into()]);
    assert_eq!(
        redactor.redact("unknown client_id \"API_SECRET\""),
        "unknown client_id \"[redacted]\""
    );
    assert_eq!(
        redactor.redact("x=pa+ss%2Bw%C3%B6rd&y=pa%20ss%2Bw%C3%B6rd&z=pa ss+wörd"),
        "x=[redacted]&y=[redacted]&z=[redacted]"
    );
    // Too short to redact without redacting ordinary words.
    assert_eq!(redactor.redact("abc"), "abc");
    // In a URL, whatever the encoding.
    assert_eq!(
        redactor.redact_target("/x/API%5FSECRET/y?k=%41PI_SECRET&API%5FSECRET=1&z=2"),
        "/x/[redacted]/y?k=[redacted]&[redacted]&z=2"
    );
    assert_eq!(redactor.redact_target("/x?y=1"), "/x?y=1");
}

#[test]
fn past_the_memory_budget_the_journal_gives_back_its_oldest_entries_and_keeps_the_bound() {
    let one = entry("/p0", 200).weight();
    let budget = Arc::new(crate::budget::MemoryBudget::new(one * 3, 1));
    let journal = Journal::new(1000, crate::config::JOURNAL_BYTES, Arc::clone(&budget));
    for i in 0..10 {
        journal.push(entry(&format!("/p{i}"), 200));
    }
    let ids: Vec<u64> = journal
        .list(&JournalFilter::default())
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [8, 9, 10]);
    assert_eq!(budget.usage().journal_bytes, one * 3);

    journal.clear();
    assert_eq!(budget.usage().used_bytes, 0);
}

#[test]
fn a_refusal_past_the_reserve_is_counted_not_journaled() {
    let budget = Arc::new(crate::budget::MemoryBudget::new(10, 1));
    budget.force_charge(
        crate::budget::Kind::Nonces,
        crate::budget::REFUSAL_RESERVE + 10,
    );
    let journal = Journal::new(1000, crate::config::JOURNAL_BYTES, Arc::clone(&budget));

    journal.push_refusal(entry("/refused", 503));

    assert!(journal.is_empty());
    assert_eq!(budget.usage().refusals_not_journaled, 1);
}

#[test]
fn a_reader_gets_the_rings_own_entries_a_bounded_batch_at_a_time_and_counts_what_it_missed() {
    let one = entry("/p0", 200).weight();
    let journal = Arc::new(Journal::new(
        4,
        crate::config::JOURNAL_BYTES,
        crate::budget::MemoryBudget::unbounded(),
    ));
    let follower = journal.follow(Some(0));
    for i in 0..6 {
        journal.push(entry(&format!("/p{i}"), 200));
    }

    let batch = journal.after(follower.last, 2 * one);

    assert_eq!(batch.skipped, 2, "ids 1 and 2 left the ring");
    let ids: Vec<u64> = batch.entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, [3, 4]);
    let kept = journal.matching(&JournalFilter::default());
    assert!(
        Arc::ptr_eq(&batch.entries[0], &kept[0]),
        "shared with the ring, not copied"
    );
    assert_eq!(journal.after(4, 2 * one).skipped, 0);
}

#[test]
fn what_the_budget_is_charged_is_what_the_ring_holds_whatever_pushed_the_entries_out() {
    let budget = Arc::new(crate::budget::MemoryBudget::new(usize::MAX / 2, 1));
    let journal = Journal::new(3, crate::config::JOURNAL_BYTES, Arc::clone(&budget));
    for i in 0..10 {
        // Sizes that change, so that netting gives back as often as it takes.
        journal.push(entry(&format!("/p{}", "x".repeat(i * 37 % 100)), 200));
        assert_eq!(budget.usage().journal_bytes, journal.bytes(), "after {i}");
    }
    assert_eq!(budget.usage().used_bytes, journal.bytes());
    drop(journal);
    assert_eq!(budget.usage().used_bytes, 0);
}
