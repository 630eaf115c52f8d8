//! `crmmap migrate`: Salesforce → monday, incremental and resumable.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use crmmap_ids::ObjectName;
use crmmap_sync::migrate::{
    self, Counts, MigrateError, MigrateOptions, MigrateReport, ObjectReport, PlannedAction,
    PlannedChange, Progress, StopSignal,
};
use crmmap_sync::{RunContext, Settings};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exit::CrmmapExit;

/// Arguments of `crmmap migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    /// The configuration file (default: `crmmap.toml`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Migrate only this object (repeatable); parents still go first.
    #[arg(long = "object", value_name = "NAME")]
    pub objects: Vec<String>,
    /// Print what would change (per object and per record) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Ignore the watermarks: read and compare every selected record.
    #[arg(long)]
    pub full: bool,
    /// While another migration runs, wait up to this long for it (`90s`, `10m`, `1h`) instead
    /// of exiting at once with code 75. A dry run never waits: it takes no lease.
    #[arg(long, value_name = "DURATION", value_parser = parse_wait)]
    pub wait: Option<std::time::Duration>,
    /// Keep migrating: an incremental migration, then another this long after it ends
    /// (`30s`, `5m`, `1h`), until Ctrl-C or SIGTERM. The polling fallback where Change Data
    /// Capture is not available. `--full` applies to the first run only.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_wait, conflicts_with = "dry_run")]
    pub watch: Option<std::time::Duration>,
}

/// `--wait`: a duration like `90s`, `10m` or `1h`.
pub fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{s}` is not a duration like 90s, 10m or 1h");
    let t = s.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    };
    seconds.map(std::time::Duration::from_secs).ok_or_else(bad)
}

/// Runs `crmmap migrate`.
pub fn migrate(args: &MigrateArgs) -> CrmmapExit {
    let settings = match Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return super::fail(&e.to_string()),
    };
    let pgsslmode = std::env::var(crmmap_store::PGSSLMODE_ENV).ok();
    if let Some(warning) = crmmap_store::tls_warning(&settings.store_url, pgsslmode.as_deref()) {
        eprintln!("warning: {warning}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        let ctx = match RunContext::build(&settings).await {
            Ok(c) => c,
            Err(e) => return super::fail(&e.to_string()),
        };
        let options = MigrateOptions {
            objects: args
                .objects
                .iter()
                .map(|o| ObjectName::new(o.as_str()))
                .collect(),
            dry_run: args.dry_run,
            full: args.full,
            lease_wait: args.wait.unwrap_or_default(),
            ..MigrateOptions::default()
        };
        match args.watch {
            Some(interval) => super::watch::watch(&ctx, &options, interval).await,
            None => run_and_print(&ctx, &options, true).await,
        }
    })
}

/// Runs a migration with Ctrl-C handling, progress and the final summary (or the plan).
pub async fn run_and_print(
    ctx: &RunContext,
    options: &MigrateOptions,
    progress_lines: bool,
) -> CrmmapExit {
    let stop: StopSignal = options.stop.clone();
    let watcher = tokio::spawn({
        let stop = stop.clone();
        async move {
            super::shutdown::requested().await;
            eprintln!("\nstopping after the current chunk; run `crmmap migrate` again to resume");
            stop.stop();
        }
    });
    let exit = run_once(ctx, options, progress_lines).await;
    watcher.abort();
    exit
}

/// One migration with progress and the final summary (or the plan); no signal handling.
pub async fn run_once(
    ctx: &RunContext,
    options: &MigrateOptions,
    progress_lines: bool,
) -> CrmmapExit {
    let started = Instant::now();
    let mut progress = TermProgress::new(progress_lines);
    let result = migrate::run(ctx, options, &mut progress).await;
    progress.clear();
    match result {
        Ok(report) => {
            if report.dry_run {
                print_plan(&progress.planned, &report);
            } else {
                print_summary(&report, started.elapsed());
            }
            exit_of(&report)
        }
        Err(e @ MigrateError::Busy(_)) => {
            eprintln!(
                "error: {e}; this run wrote nothing (wait for it with `crmmap migrate --wait 10m`)"
            );
            CrmmapExit::Busy
        }
        Err(e) if e.is_limit() => {
            eprintln!(
                "error: migration stopped: {e}. The checkpoint is saved: run `crmmap migrate` \
                 again after the reset to resume"
            );
            CrmmapExit::LimitReached
        }
        Err(e) if e.is_config() => {
            eprintln!("error: migration stopped: {e}");
            CrmmapExit::Config
        }
        Err(e) => super::fail(&format!(
            "migration stopped: {e} (the next run resumes from the last checkpoint)"
        )),
    }
}

/// 0 clean, 1 some record failed or the run was stopped, 2 the run could not continue (69: an
/// API limit stopped it; 75: another migration runs; 78: the mappings name a missing board;
/// see [`run_and_print`]).
pub fn exit_of(report: &MigrateReport) -> CrmmapExit {
    if report.has_failures() || report.stopped {
        CrmmapExit::Problems
    } else {
        CrmmapExit::Clean
    }
}

/// A progress bar (indicatif) on a terminal (stderr), plain lines otherwise.
pub struct TermProgress {
    tty: bool,
    lines: bool,
    bar: Option<ProgressBar>,
    /// Changes a dry run found, printed after the run.
    pub planned: Vec<PlannedChange>,
}

/// Most planned records printed per object; the counts cover the rest.
const PLAN_RECORDS_SHOWN: usize = 200;

impl TermProgress {
    /// Progress on stderr; `lines` false prints nothing but failures.
    pub fn new(lines: bool) -> TermProgress {
        TermProgress {
            tty: std::io::stderr().is_terminal(),
            lines,
            bar: None,
            planned: Vec::new(),
        }
    }

    /// Removes the bar (before a line is printed, and at the end).
    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Prints a line above the bar, or plainly when there is none.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }
}

impl Progress for TermProgress {
    fn object_started(&mut self, object: &ObjectName, total: Option<u64>) {
        self.clear();
        if !self.lines {
            return;
        }
        if self.tty {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:<12} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("#>-"),
            );
            bar.set_prefix(object.to_string());
            // Redraw the elapsed time between chunks (a chunk can wait for the budget).
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            self.bar = Some(bar);
        } else {
            eprintln!(
                "{object}: {} records selected",
                total.map_or("?".into(), |t| t.to_string())
            );
        }
    }

    fn records_done(&mut self, object: &ObjectName, done: u64, counts: &Counts) {
        if !self.lines {
            return;
        }
        match &self.bar {
            Some(bar) => {
                if bar.length().is_some_and(|len| len < done) {
                    bar.set_length(done);
                }
                bar.set_position(done);
                bar.set_message(format!(
                    "+{} ~{} ={} !{}",
                    counts.created, counts.updated, counts.unchanged, counts.failed
                ));
            }
            None => eprintln!(
                "{object}: {done} processed ({} created, {} updated, {} unchanged, {} failed)",
                counts.created, counts.updated, counts.unchanged, counts.failed
            ),
        }
    }

    fn object_finished(&mut self, report: &ObjectReport) {
        self.clear();
        if self.lines {
            let c = &report.counts;
            let note = if report.skipped_done {
                " (done in the resumed run)"
            } else {
                ""
            };
            eprintln!(
                "{}: {} read, {} created, {} updated, {} unchanged, {} failed{note}",
                report.object, c.read, c.created, c.updated, c.unchanged, c.failed
            );
        }
    }

    fn planned(&mut self, change: &PlannedChange) {
        self.planned.push(change.clone());
    }

    fn failed(&mut self, object: &ObjectName, record_id: &str, message: &str) {
        self.line(&format!("failed: {object} {record_id}: {message}"));
    }

    fn message(&mut self, text: &str) {
        self.line(text);
    }
}

/// Prints a dry run's plan, `terraform plan` style.
pub fn print_plan(planned: &[PlannedChange], report: &MigrateReport) {
    for o in &report.objects {
        let changes: Vec<&PlannedChange> =
            planned.iter().filter(|p| p.object == o.object).collect();
        if changes.is_empty() {
            continue;
        }
        println!("{}:", o.object);
        for p in changes.iter().take(PLAN_RECORDS_SHOWN) {
            match (p.action, &p.item_id) {
                (PlannedAction::Create, _) => println!("  + {} (new item)", p.record_id),
                (PlannedAction::Update, Some(item)) => {
                    println!("  ~ {} (item {item})", p.record_id)
                }
                (PlannedAction::Update, None) => println!("  ~ {}", p.record_id),
            }
            for c in &p.changes {
                let field = if c.field.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.field)
                };
                match p.action {
                    PlannedAction::Create => println!("      {}{field}: {}", c.column, c.new),
                    PlannedAction::Update => {
                        println!("      {}{field}: {} → {}", c.column, c.old, c.new)
                    }
                }
            }
        }
        if changes.len() > PLAN_RECORDS_SHOWN {
            println!("  … and {} more", changes.len() - PLAN_RECORDS_SHOWN);
        }
    }
    println!();
    println!("Plan:");
    for o in &report.objects {
        let c = &o.counts;
        println!(
            "  {:<12} {} to create, {} to update, {} unchanged, {} links, {} links waiting for a target not yet on monday, {} failing",
            o.object, c.created, c.updated, c.unchanged, c.links, c.parked, c.failed
        );
        if c.deleted > 0 {
            println!(
                "  {:<12} {} items to archive or delete (records deleted in Salesforce)",
                "", c.deleted
            );
        }
    }
    println!(
        "Estimated: {} monday complexity points in {} write requests and {} lookups; {} Salesforce calls",
        report.monday_complexity,
        report.monday_write_requests,
        report.monday_reads,
        report.salesforce_calls
    );
    println!("Nothing was written (dry run).");
}

/// Prints a run's final summary.
pub fn print_summary(report: &MigrateReport, elapsed: std::time::Duration) {
    let t = report.total();
    println!(
        "{:<12} {:>7} {:>8} {:>8} {:>10} {:>8} {:>6} {:>7} {:>7}",
        "object", "read", "created", "updated", "unchanged", "matched", "links", "parked", "failed"
    );
    let row = |name: &str, c: &Counts| {
        println!(
            "{:<12} {:>7} {:>8} {:>8} {:>10} {:>8} {:>6} {:>7} {:>7}",
            name, c.read, c.created, c.updated, c.unchanged, c.matched, c.links, c.parked, c.failed
        );
    };
    for o in &report.objects {
        row(o.object.as_str(), &o.counts);
    }
    row("total", &t);
    if t.deleted > 0 {
        println!(
            "{} items archived or deleted: their records were deleted in Salesforce",
            t.deleted
        );
    }
    println!(
        "{} Salesforce calls, {} monday write requests, {} lookups, ~{} complexity points, {:.1}s{}",
        report.salesforce_calls,
        report.monday_write_requests,
        report.monday_reads,
        report.monday_complexity,
        elapsed.as_secs_f64(),
        if report.resumed {
            " (resumed an unfinished run)"
        } else {
            ""
        }
    );
    if let Some(usage) = &report.salesforce_usage {
        println!("Salesforce org API usage: {usage}");
    }
    if report.stopped {
        println!("Stopped early: run `crmmap migrate` again to continue from the checkpoint.");
    }
    if t.failed > 0 {
        println!(
            "{} record(s) failed: see `crmmap log --failed`; they are queued for retry.",
            t.failed
        );
    }
}
