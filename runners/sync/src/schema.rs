//! `crmmap schema pull`: snapshot the boards' columns and the sObjects' describes that the
//! mappings use, into a directory meant to be committed next to the mappings; and reading such a
//! snapshot back for `crmmap check --schema`.
//!
//! Layout: `<dir>/monday/board-<id>.json` and `<dir>/salesforce/<sObject>.json`, one pretty JSON
//! document each, sorted so that diffs of a re-pull show exactly what changed.

use std::path::Path;

use crmmap_dsl::schema::{
    BoardSchema, ColumnSchema, FieldSchema, SCHEMA_FORMAT_VERSION, SObjectSchema, SchemaSnapshot,
};
use crmmap_engine::PlanSet;
use crmmap_monday::{BoardId, MondayClient};
use crmmap_salesforce::SalesforceClient;

/// Why a snapshot could not be taken, written or read.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// An API call failed.
    #[error("{0}")]
    Api(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
}

/// Reads the columns of every mapped board and the describe of every mapped sObject.
pub async fn pull(
    plans: &PlanSet,
    salesforce: &SalesforceClient,
    monday: &MondayClient,
) -> Result<SchemaSnapshot, SchemaError> {
    pull_with(plans, &[], &[], salesforce, monday).await
}

/// [`pull`], plus boards and sObjects no mapping uses yet (for `crmmap init`).
pub async fn pull_with(
    plans: &PlanSet,
    more_boards: &[u64],
    more_sobjects: &[String],
    salesforce: &SalesforceClient,
    monday: &MondayClient,
) -> Result<SchemaSnapshot, SchemaError> {
    let mut board_ids: Vec<BoardId> = plans.plans.iter().map(|p| p.board).collect();
    board_ids.extend(more_boards.iter().copied().map(BoardId::new));
    board_ids.sort_unstable();
    board_ids.dedup();
    let boards = monday
        .boards(&board_ids, None)
        .await
        .map_err(|e| SchemaError::Api(format!("cannot read the boards: {e}")))?;
    let mut snapshot = SchemaSnapshot::default();
    for b in boards {
        let id = b.id.get();
        let mut columns: Vec<ColumnSchema> = b
            .columns
            .iter()
            .map(|c| ColumnSchema {
                id: c.id.to_string(),
                title: c.title.clone(),
                column_type: c.column_type.clone(),
                labels: c.labels.values().cloned().collect(),
                board_ids: c
                    .settings
                    .as_ref()
                    .and_then(|s| s.get("boardIds"))
                    .and_then(|v| v.as_array())
                    .map(|ids| {
                        ids.iter()
                            .filter_map(|v| {
                                v.as_u64()
                                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        columns.sort_by(|a, b| a.id.cmp(&b.id));
        snapshot.boards.push(BoardSchema {
            version: SCHEMA_FORMAT_VERSION,
            id,
            name: b.name,
            columns,
        });
    }
    let mut sobjects: Vec<&str> = plans.plans.iter().map(|p| p.sobject.as_str()).collect();
    sobjects.extend(more_sobjects.iter().map(String::as_str));
    sobjects.sort_unstable();
    sobjects.dedup();
    for name in sobjects {
        let d = salesforce
            .describe(name)
            .await
            .map_err(|e| SchemaError::Api(format!("cannot describe `{name}`: {e}")))?;
        let mut fields: Vec<FieldSchema> = d
            .fields
            .iter()
            .map(|f| FieldSchema {
                name: f.name.clone(),
                label: f.label.clone(),
                field_type: f.field_type.as_str().to_string(),
                createable: f.createable,
                updateable: f.updateable,
                picklist_values: f.active_picklist_values().map(str::to_string).collect(),
                restricted_picklist: f.restricted_picklist,
                reference_to: f.reference_to.clone(),
            })
            .collect();
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        snapshot.sobjects.push(SObjectSchema {
            version: SCHEMA_FORMAT_VERSION,
            name: d.name,
            fields,
        });
    }
    snapshot.boards.sort_by_key(|b| b.id);
    Ok(snapshot)
}

/// Writes a snapshot into `dir` (replacing the files of the same boards and sObjects).
pub fn write_dir(
    snapshot: &SchemaSnapshot,
    dir: &Path,
) -> Result<Vec<std::path::PathBuf>, SchemaError> {
    let io = |what: &Path, e: std::io::Error| {
        SchemaError::Io(format!("cannot write `{}`: {e}", what.display()))
    };
    let mut written = Vec::new();
    for (sub, name, json) in snapshot
        .boards
        .iter()
        .map(|b| {
            (
                "monday",
                format!("board-{}.json", b.id),
                serde_json::to_string_pretty(b),
            )
        })
        .chain(snapshot.sobjects.iter().map(|s| {
            (
                "salesforce",
                format!("{}.json", s.name),
                serde_json::to_string_pretty(s),
            )
        }))
    {
        let folder = dir.join(sub);
        std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
        let path = folder.join(name);
        let mut text = json.map_err(|e| SchemaError::Io(e.to_string()))?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// Reads a snapshot directory written by [`write_dir`].
pub fn read_dir(dir: &Path) -> Result<SchemaSnapshot, SchemaError> {
    let mut snapshot = SchemaSnapshot::default();
    for sub in ["monday", "salesforce"] {
        let folder = dir.join(sub);
        let mut entries: Vec<std::path::PathBuf> = match std::fs::read_dir(&folder) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                return Err(SchemaError::Io(format!(
                    "cannot read the schema snapshot `{}`: {e}; run `crmmap schema pull`",
                    folder.display()
                )));
            }
        };
        entries.sort();
        for path in entries
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SchemaError::Io(format!("cannot read `{}`: {e}", path.display())))?;
            let bad = |e: serde_json::Error| {
                SchemaError::Io(format!(
                    "`{}` is not a schema snapshot file: {e}",
                    path.display()
                ))
            };
            if sub == "monday" {
                snapshot
                    .boards
                    .push(serde_json::from_str(&text).map_err(bad)?);
            } else {
                snapshot
                    .sobjects
                    .push(serde_json::from_str(&text).map_err(bad)?);
            }
        }
    }
    Ok(snapshot)
}
