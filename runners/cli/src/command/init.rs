//! `crmmap init`: a first mapping for a board and an sObject, from a schema snapshot.

use std::path::PathBuf;

use clap::Args;
use crmmap_dsl::init::{InitRequest, init as draft};

use crate::exit::CrmmapExit;

/// Arguments of `crmmap init`.
#[derive(Args)]
pub struct InitArgs {
    /// A snapshot written by `crmmap schema pull` that holds the board and the sObject
    /// (`crmmap schema pull --board ID --salesforce SOBJECT` adds them).
    #[arg(long, value_name = "DIR")]
    pub schema: PathBuf,
    /// The mapping's name for the object (`Grant`).
    #[arg(long, value_name = "NAME")]
    pub object: String,
    /// The monday board id.
    #[arg(long, value_name = "ID")]
    pub board: u64,
    /// The sObject's API name (default: the object's name).
    #[arg(long, value_name = "SOBJECT")]
    pub salesforce: Option<String>,
    /// The text column that holds the Salesforce record Id (default: the one titled like
    /// `Salesforce Id`).
    #[arg(long, value_name = "COLUMN")]
    pub key: Option<String>,
    /// Where to write the mapping (default `mappings/<name>.crmmap`); `-` prints it. An
    /// existing file is never replaced.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `crmmap init`.
pub fn init(args: &InitArgs) -> CrmmapExit {
    let snapshot = match crmmap_sync::schema::read_dir(&args.schema) {
        Ok(s) => s,
        Err(e) => return super::fail(&e.to_string()),
    };
    let sobject_name = args.salesforce.as_deref().unwrap_or(&args.object);
    let Some(board) = snapshot.board(args.board) else {
        return super::fail(&format!(
            "board {} is not in the snapshot `{}`; add it with `crmmap schema pull --board {}`",
            args.board,
            args.schema.display(),
            args.board
        ));
    };
    let Some(sobject) = snapshot.sobject(sobject_name) else {
        return super::fail(&format!(
            "sObject `{sobject_name}` is not in the snapshot `{}`; add it with `crmmap schema pull --salesforce {sobject_name}`",
            args.schema.display()
        ));
    };
    let written = match draft(&InitRequest {
        object: &args.object,
        board,
        sobject,
        key: args.key.as_deref(),
    }) {
        Ok(d) => d,
        Err(e) => return super::fail(&e.to_string()),
    };
    let summary = format!(
        "{} column{} matched to fields, {} left out (listed at the end of the object); check it with `crmmap check --schema {}`",
        written.fields.len(),
        if written.fields.len() == 1 { "" } else { "s" },
        written.unmatched.len(),
        args.schema.display()
    );
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(super::DEFAULT_MAPPINGS)
            .join(format!("{}.crmmap", args.object.to_lowercase()))
    });
    if out.as_os_str() == "-" {
        print!("{}", written.text);
        eprintln!("{summary}");
        return CrmmapExit::Clean;
    }
    if out.exists() {
        return super::fail(&format!(
            "`{}` exists; crmmap init never replaces a file (choose another with `--out`)",
            out.display()
        ));
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return super::fail(&format!("cannot create `{}`: {e}", parent.display()));
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&out)
        .and_then(|mut f| std::io::Write::write_all(&mut f, written.text.as_bytes()));
    if let Err(e) = created {
        return super::fail(&format!("cannot write `{}`: {e}", out.display()));
    }
    eprintln!("wrote {}: {summary}", out.display());
    CrmmapExit::Clean
}
