//! The two backends every storage test runs on: a SQLite file in a temp dir and a fresh database
//! on the PostgreSQL server of this machine (`YTMAKER_TEST_PG_URL`, default
//! postgres://postgres@127.0.0.1:5432/postgres).

use uuid::Uuid;
use ytmaker_store::Store;

pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    TestDb {
        store,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> TestDb {
    let admin_url = std::env::var("YTMAKER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("ytmaker_test_{}", Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("PostgreSQL must be running for the storage tests (scripts/ensure-services.sh)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    let store = Store::open(&format!("{base}/{name}")).await.unwrap();
    TestDb { store, _dir: None }
}

/// `both_backends! { test_name => async_fn_taking_a_store; … }` runs each body on both backends.
macro_rules! both_backends {
    ($($name:ident => $body:ident;)+) => {
        mod on_sqlite { $( #[tokio::test] async fn $name() { let db = super::common::sqlite().await; super::$body(db.store).await } )+ }
        mod on_postgres { $( #[tokio::test] async fn $name() { let db = super::common::postgres().await; super::$body(db.store).await } )+ }
    };
}
