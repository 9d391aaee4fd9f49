//! Stored alerts on both backends: one open alert per rule and subject, resolution by exactly one
//! caller, notices claimed once and never offered again after their attempt, daily summaries
//! claimed once per date.

use serde_json::json;
use uuid::Uuid;
#[macro_use]
mod common;

use ytmaker_store::{AlertState, Delivery, NewAlert, Notice, Store};

both_backends! {
    one_open_alert_per_rule_and_subject => one_open_alert_per_rule_and_subject_body;
    notices_are_claimed_once_and_recorded => notices_are_claimed_once_and_recorded_body;
    a_daily_summary_is_claimed_once_per_date => a_daily_summary_is_claimed_once_per_date_body;
}

fn new_alert(rule: &str, subject: &str, at: i64) -> NewAlert {
    NewAlert {
        rule: rule.into(),
        priority: "P0".into(),
        subject: subject.into(),
        message: format!("{rule} for {subject}"),
        details: json!({ "code": "STABILITY_INVALID_API_KEY" }),
        first_seen_ms: at,
        last_seen_ms: at,
        occurrences: 2,
    }
}

async fn one_open_alert_per_rule_and_subject_body(store: Store) {
    let first = store
        .open_alert(&new_alert("provider_key_invalid", "stability", 1_000))
        .await
        .unwrap()
        .expect("opened");
    assert_eq!(first.state, AlertState::Open);
    assert_eq!(first.occurrences, 2);
    assert_eq!(first.details["code"], "STABILITY_INVALID_API_KEY");
    // The same rule and subject again: refused by the database, not duplicated.
    assert!(
        store
            .open_alert(&new_alert("provider_key_invalid", "stability", 2_000))
            .await
            .unwrap()
            .is_none()
    );
    // Another subject is another alert.
    let gemini = store
        .open_alert(&new_alert("provider_key_invalid", "gemini", 3_000))
        .await
        .unwrap()
        .expect("opened");

    store
        .bump_alert(first.id, 5_000, 3, "still refused", &json!({ "calls": 5 }))
        .await
        .unwrap();
    let bumped = store.alert(first.id).await.unwrap();
    assert_eq!((bumped.occurrences, bumped.last_seen_ms), (5, 5_000));
    assert_eq!(bumped.message, "still refused");

    assert!(store.resolve_alert(first.id, 6_000).await.unwrap());
    // Only one caller resolves it.
    assert!(!store.resolve_alert(first.id, 6_001).await.unwrap());
    let resolved = store.alert(first.id).await.unwrap();
    assert_eq!(resolved.state, AlertState::Resolved);
    assert_eq!(resolved.resolved_ms, Some(6_000));
    // Bumping a resolved alert changes nothing.
    store
        .bump_alert(first.id, 9_000, 1, "late", &json!({}))
        .await
        .unwrap();
    assert_eq!(store.alert(first.id).await.unwrap().occurrences, 5);

    // Once resolved, the rule may open a new episode for the subject.
    let again = store
        .open_alert(&new_alert("provider_key_invalid", "stability", 7_000))
        .await
        .unwrap()
        .expect("a new episode");
    assert_ne!(again.id, first.id);

    let open = store.alerts(Some(AlertState::Open), 100).await.unwrap();
    let ids: Vec<Uuid> = open.iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![again.id, gemini.id], "newest first");
    assert_eq!(store.alerts(None, 100).await.unwrap().len(), 3);
    assert_eq!(
        store
            .alerts(Some(AlertState::Resolved), 100)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn notices_are_claimed_once_and_recorded_body(store: Store) {
    let alert = store
        .open_alert(&new_alert("disk_critical", "disk", 1_000))
        .await
        .unwrap()
        .unwrap();
    let pending = store.alerts_awaiting_notice().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1, Notice::Opened);

    assert!(
        store
            .claim_alert_notice(alert.id, Notice::Opened, 10_000, 60_000)
            .await
            .unwrap()
    );
    // A second evaluator cannot take it while the lease runs.
    assert!(
        !store
            .claim_alert_notice(alert.id, Notice::Opened, 20_000, 60_000)
            .await
            .unwrap()
    );
    store
        .record_alert_notice(alert.id, Notice::Opened, Ok(()), 2, 21_000)
        .await
        .unwrap();
    let delivered = store.alert(alert.id).await.unwrap();
    assert_eq!(delivered.open_delivery, Some(Delivery::Delivered));
    assert_eq!(delivered.delivered_ms, Some(21_000));
    assert_eq!(delivered.delivery_attempts, 2);
    assert!(store.alerts_awaiting_notice().await.unwrap().is_empty());
    // Even after the lease would have expired, an attempted notice is never claimed again.
    assert!(
        !store
            .claim_alert_notice(alert.id, Notice::Opened, 999_000, 60_000)
            .await
            .unwrap()
    );

    store.resolve_alert(alert.id, 30_000).await.unwrap();
    let pending = store.alerts_awaiting_notice().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1, Notice::Resolved);
    assert!(
        store
            .claim_alert_notice(alert.id, Notice::Resolved, 31_000, 60_000)
            .await
            .unwrap()
    );
    store
        .record_alert_notice(
            alert.id,
            Notice::Resolved,
            Err("503 from hooks.example"),
            4,
            32_000,
        )
        .await
        .unwrap();
    let failed = store.alert(alert.id).await.unwrap();
    assert_eq!(failed.resolve_delivery, Some(Delivery::Failed));
    assert_eq!(failed.delivery_attempts, 6);
    assert_eq!(
        failed.delivery_error.as_deref(),
        Some("503 from hooks.example")
    );
    assert_eq!(failed.delivered_ms, Some(21_000), "the last success stays");
    assert!(store.alerts_awaiting_notice().await.unwrap().is_empty());

    // An alert whose opening was never announced gets no resolution notice either.
    let silent = store
        .open_alert(&new_alert("disk_low", "disk", 40_000))
        .await
        .unwrap()
        .unwrap();
    store
        .claim_alert_notice(silent.id, Notice::Opened, 40_000, 60_000)
        .await
        .unwrap();
    store
        .record_alert_notice(silent.id, Notice::Opened, Err("down"), 4, 41_000)
        .await
        .unwrap();
    store.resolve_alert(silent.id, 50_000).await.unwrap();
    assert!(store.alerts_awaiting_notice().await.unwrap().is_empty());
}

async fn a_daily_summary_is_claimed_once_per_date_body(store: Store) {
    assert!(store.claim_daily_summary("2026-11-28", 1).await.unwrap());
    assert!(!store.claim_daily_summary("2026-11-28", 2).await.unwrap());
    store
        .record_daily_summary("2026-11-28", Err("timeout"), 4, 3)
        .await
        .unwrap();
    // A failed send is not claimable again: it was given up, not forgotten.
    assert!(!store.claim_daily_summary("2026-11-28", 4).await.unwrap());
    assert!(store.claim_daily_summary("2026-11-29", 5).await.unwrap());
}
