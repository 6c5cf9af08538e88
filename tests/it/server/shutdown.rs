//! Graceful shutdown over a real socket: a request in flight when the stop
//! signal arrives is answered, then the server ends cleanly.

use crate::common::Served;
use doublure::testing::AppState;
use serde_json::{Value, json};

#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_answered_before_the_server_ends() {
    let state = AppState::for_tests();
    state
        .faults
        .add(
            serde_json::from_value(json!({"path": "/api/v1/slow", "latency_ms": 300}))
                .expect("a rule"),
        )
        .expect("a valid rule");
    let served = Served::start(state.clone()).await;
    let url = served.url("/api/v1/slow");
    let in_flight = tokio::spawn(async move { reqwest::get(url).await });

    // The rule counts a firing before it waits: from then on the request is
    // being handled, and the shutdown must let it finish.
    while state.faults.list().first().map(|r| r.fired) != Some(1) {
        tokio::task::yield_now().await;
    }
    served.stop().await.expect("a clean stop");

    let response = in_flight
        .await
        .expect("task")
        .expect("an answer, not a reset");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body, json!({"success": false, "error": "Not found"}));
}
