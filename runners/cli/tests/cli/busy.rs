//! Exit code 75 (busy): work another process holds is refused, with a message that says who
//! holds it and why, and nothing is written.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use crmmap_store::{LeaseAcquire, LeaseOptions, Store};
use crmmap_testkit::{Emulators, cli_env};

use crate::root;

/// A `crmmap serve` process; killed when the test ends, however it ends.
pub(crate) struct Server(Child);

impl Server {
    pub(crate) fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `crmmap serve` on a free port of 127.0.0.1 (no drain of its own) with `config`;
/// returns it once it listens, with the address it announced on stderr.
pub(crate) async fn serve(config: &Path) -> (Server, String) {
    let mut child = crmmap(
        &["serve", "--listen", "127.0.0.1:0", "--retry-every", "0"],
        config,
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let addr = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        loop {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
    })
    .await
    .unwrap();
    (server, addr)
}

/// `crmmap ARGS --config CONFIG`, with the emulators' credentials in its environment.
pub(crate) fn crmmap(args: &[&str], config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crmmap"));
    c.args(args)
        .arg("--config")
        .arg(config)
        .envs(cli_env())
        .env("CRMMAP_WEBHOOK_TOKEN", "a-secret-path-token-for-tests")
        .env_remove("DATABASE_URL");
    c
}

pub(crate) async fn run(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn items(emu: &Emulators) -> usize {
    let plans = crmmap_sync::mappings::load(&[root().join("mappings")]).unwrap();
    plans
        .in_order()
        .map(|p| emu.monday.state().active_items(p.board.get()).len())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_beside_another_migration_exits_75_and_writes_nothing() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, url) = emu.write_config(dir.path());
    let store = Store::connect(&url).await.unwrap();
    let LeaseAcquire::Acquired(held) = store
        .acquire_lease(
            "migrate",
            "crmmap migrate on ops-box, pid 4242",
            &LeaseOptions::default(),
            Arc::new(time::OffsetDateTime::now_utc),
        )
        .await
        .unwrap()
    else {
        panic!("a fresh store's lease is held")
    };

    let out = run(crmmap(&["migrate"], &config)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains(
            "error: another migration is running: crmmap migrate on ops-box, pid 4242 since "
        ) && stderr.contains("this run wrote nothing"),
        "{stderr}"
    );
    assert_eq!(items(&emu), 0, "a refused migration wrote items");

    // A dry run writes nothing and takes no lease: it plans beside the running migration.
    let dry = run(crmmap(&["migrate", "--dry-run"], &config)).await;
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(String::from_utf8_lossy(&dry.stdout).contains("Nothing was written (dry run)."));

    // --wait: waits for the other to finish, then migrates.
    let waiting = tokio::task::spawn_blocking({
        let mut c = crmmap(&["migrate", "--wait", "2m"], &config);
        move || c.output().unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "--wait did not wait");
    assert_eq!(items(&emu), 0);
    held.release().await.unwrap();
    let out = waiting.await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(items(&emu) > 0);

    let bad = run(crmmap(&["migrate", "--wait", "soon"], &config)).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("`soon` is not a duration like 90s, 10m or 1h")
    );
    store.close().await;
}

/// `crmmap serve` on SQLite holds the store's events lease: `crmmap retry` beside it refuses
/// (SQLite's item lock does not cross processes), while listing dead letters and `crmmap
/// prune` (which touch no item) run.
#[tokio::test(flavor = "multi_thread")]
async fn retry_beside_serve_on_sqlite_exits_75_and_prune_runs() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, url) = emu.write_config(dir.path());

    // Alone, `crmmap retry` runs (and frees the lease when it is done).
    let alone = run(crmmap(&["retry"], &config)).await;
    assert_eq!(
        alone.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );

    let (server, _) = serve(&config).await;
    let pid = server.id();

    let store = Store::connect(&url).await.unwrap();
    let holder = store
        .lease_holder("item-events", time::OffsetDateTime::now_utc())
        .await
        .unwrap()
        .expect("crmmap serve holds the events lease");
    assert!(
        holder.holder.starts_with("crmmap serve on ")
            && holder.holder.ends_with(&format!(", pid {pid}")),
        "{holder:?}"
    );

    let out = run(crmmap(&["retry"], &config)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {} applies monday item events on this SQLite store; SQLite's item lock does not cross processes",
            holder
        )) && stderr.contains("use PostgreSQL to run several processes"),
        "{stderr}"
    );

    let dead = run(crmmap(&["retry", "--dead"], &config)).await;
    assert_eq!(
        dead.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dead.stderr)
    );
    let prune = run(crmmap(&["prune"], &config)).await;
    assert_eq!(
        prune.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&prune.stderr)
    );
    // Still held by the server: nothing the refused retry did freed it.
    assert!(
        store
            .lease_holder("item-events", time::OffsetDateTime::now_utc())
            .await
            .unwrap()
            .is_some()
    );
    drop(server);
    store.close().await;
}
