//! The per-backend test macro.

/// One `#[tokio::test]` per backend for each scenario of a module, in a `sqlite` and a
/// `postgres` module (the PostgreSQL variant skips, saying so, when `CRMMAP_TEST_POSTGRES_URL`
/// is unset):
///
/// - `backend_tests!(module; a, b)` calls `module::a(Backend)`; the scenario sets up its world
///   (and returns when [`Database::new`](crate::Database::new) gives `None`);
/// - `backend_tests!(module with Fixture; a, b)` opens `Fixture::open(Backend)` (returning
///   when it gives `None`), calls `module::a(&fixture)`, then `fixture.cleanup()`.
///
/// Each test runs on a multi-threaded runtime with 4 workers; `module, worker_threads = N`
/// sets another number.
#[macro_export]
macro_rules! backend_tests {
    ($module:ident $(with $fixture:ty)?; $($name:ident),* $(,)?) => {
        $crate::__backend_tests!($module, 4, [$($fixture)?]; $($name),*);
    };
    ($module:ident, worker_threads = $threads:literal $(, with $fixture:ty)?; $($name:ident),* $(,)?) => {
        $crate::__backend_tests!($module, $threads, [$($fixture)?]; $($name),*);
    };
}

/// The two modules of [`backend_tests!`].
#[doc(hidden)]
#[macro_export]
#[expect(
    clippy::crate_in_macro_def,
    reason = "the scenarios are the calling crate's"
)]
macro_rules! __backend_tests {
    ($module:ident, $threads:literal, $fixture:tt; $($name:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    $crate::__backend_test!(crate::$module::$name, $crate::Backend::Sqlite, $fixture);
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    $crate::__backend_test!(crate::$module::$name, $crate::Backend::Postgres, $fixture);
                }
            )*
        }
    };
}

/// The body of one test of [`backend_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_test {
    ($scenario:path, $backend:expr, []) => {
        $scenario($backend).await
    };
    ($scenario:path, $backend:expr, [$fixture:ty]) => {{
        let Some(fixture) = <$fixture>::open($backend).await else {
            return;
        };
        $scenario(&fixture).await;
        fixture.cleanup().await;
    }};
}
