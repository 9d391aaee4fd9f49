//! Linked YouTube accounts on both backends: the first linked is the default, a re-link keeps
//! the flag and renews the row, exactly one default after every change, removing the default
//! hands it to the earliest linked other account, unknown channels are NOT_FOUND.

#[macro_use]
mod common;

use ytmaker_core::ErrorCode;
use ytmaker_store::Store;

both_backends! {
    the_first_account_is_the_default_and_switching_keeps_one => switching_body;
    removing_the_default_hands_it_on => removing_body;
}

const FIRST: &str = "UCaaaaaaaaaaaaaaaaaaaaaa";
const SECOND: &str = "UCbbbbbbbbbbbbbbbbbbbbbb";
const THIRD: &str = "UCcccccccccccccccccccccc";

async fn defaults(store: &Store) -> Vec<String> {
    store
        .youtube_accounts()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.is_default)
        .map(|a| a.channel_id)
        .collect()
}

async fn switching_body(store: Store) {
    assert!(store.youtube_accounts().await.unwrap().is_empty());
    assert_eq!(store.default_youtube_account().await.unwrap(), None);
    let first = store.link_youtube_account(FIRST, "First").await.unwrap();
    assert!(first.is_default);
    let second = store.link_youtube_account(SECOND, "Second").await.unwrap();
    assert!(!second.is_default);
    let listed = store.youtube_accounts().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|a| a.channel_id.as_str())
            .collect::<Vec<_>>(),
        [FIRST, SECOND]
    );

    // A re-link renews title and time but neither adds a row nor steals the default.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let relinked = store
        .link_youtube_account(SECOND, "Second, renamed")
        .await
        .unwrap();
    assert_eq!(relinked.channel_title, "Second, renamed");
    assert!(!relinked.is_default);
    assert!(relinked.linked_at >= second.linked_at);
    assert_eq!(store.youtube_accounts().await.unwrap().len(), 2);

    let switched = store.set_default_youtube_account(SECOND).await.unwrap();
    assert!(switched.is_default);
    assert_eq!(defaults(&store).await, [SECOND]);
    assert_eq!(
        store
            .default_youtube_account()
            .await
            .unwrap()
            .unwrap()
            .channel_id,
        SECOND
    );
    // Setting the default again is harmless.
    store.set_default_youtube_account(SECOND).await.unwrap();
    assert_eq!(defaults(&store).await, [SECOND]);

    let err = store.set_default_youtube_account(THIRD).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NOT_FOUND);
    assert_eq!(err.details["youtube_account"], THIRD);
    assert_eq!(
        defaults(&store).await,
        [SECOND],
        "a failed switch changes nothing"
    );
}

async fn removing_body(store: Store) {
    for (id, title) in [(FIRST, "First"), (SECOND, "Second"), (THIRD, "Third")] {
        store.link_youtube_account(id, title).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    store.set_default_youtube_account(THIRD).await.unwrap();
    // Removing another account keeps the default.
    let after = store.remove_youtube_account(SECOND).await.unwrap();
    assert_eq!(after.unwrap().channel_id, THIRD);
    // Removing the default hands it to the earliest linked remaining account.
    let after = store.remove_youtube_account(THIRD).await.unwrap();
    assert_eq!(after.unwrap().channel_id, FIRST);
    assert_eq!(defaults(&store).await, [FIRST]);
    let err = store.remove_youtube_account(THIRD).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NOT_FOUND);
    // The last one leaves no default; the next link is the default again.
    assert_eq!(store.remove_youtube_account(FIRST).await.unwrap(), None);
    assert!(store.youtube_accounts().await.unwrap().is_empty());
    assert!(
        store
            .link_youtube_account(SECOND, "Second")
            .await
            .unwrap()
            .is_default
    );
}
