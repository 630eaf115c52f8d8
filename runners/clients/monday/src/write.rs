//! Batched writes, and what is done with a batch whose outcome is unknown.
//!
//! After a timeout, a connection lost once the request was sent, an HTTP 5xx or an unreadable
//! answer, monday may have run the batch (reference §1.5 lists HTTP 500, §1.1 a 60-second
//! timeout on every call; nothing says whether a batch so answered was applied, so it may
//! have been, wholly or in part). A GraphQL error answer (HTTP 200) and a 4xx say what
//! happened, and are not looked into further.
//!
//! - Changes, deletes and archives are idempotent: the batch is sent again (a delete or
//!   archive that had been applied then fails as "item gone", which callers take as done).
//! - Creates are never sent again blindly. With [`CreateRecovery::ByKeyColumn`] the items are
//!   looked up by the key each create writes (`items_page_by_column_values`): those found are
//!   returned as created, and only the missing ones are created. With
//!   [`CreateRecovery::NotResent`] each create fails with [`MondayError::OutcomeUnknown`].

use std::collections::BTreeMap;

use crmmap_ids::{BoardId, ColumnId, ItemId};
use serde_json::Value;

use crate::client::{MAX_PAGE_SIZE, MondayClient, MutationResult, PageRequest, Resend};
use crate::documents::{self, BatchDocument, ItemMutation};
use crate::error::MondayError;
use crate::types::{Item, monday_id, required_id};

/// What to do with the creates of a batch whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateRecovery<'a> {
    /// Nothing: each create fails with [`MondayError::OutcomeUnknown`], and the caller finds
    /// out later whether the item exists.
    NotResent,
    /// Each create writes a key into this (text) column that identifies its item, such as the
    /// Salesforce Id of the record it mirrors. The items are looked up by it: an item found is
    /// returned as the create's result (also one that held the key before the batch), and only
    /// creates without an item are sent again. A create that writes no key into the column is
    /// not sent again.
    ByKeyColumn(&'a ColumnId),
}

/// One mutation of a batch and its result, once known.
struct Slot<'m> {
    mutation: &'m ItemMutation,
    result: Option<Result<MutationResult, MondayError>>,
}

impl Slot<'_> {
    fn pending(&self) -> bool {
        self.result.is_none()
    }
}

impl MondayClient {
    /// Runs mutations in order, packed into aliased batch documents. Returns one result per
    /// mutation, in order: a failing mutation (an unknown label, a deleted item) fails alone
    /// while the others apply. The outer error is for failures of a whole request.
    ///
    /// A batch of changes, deletes and archives that fails without a known outcome is sent
    /// again; a create in such a batch is not, and fails with
    /// [`MondayError::OutcomeUnknown`] (see [`Self::execute_recovering`]).
    pub async fn execute(
        &self,
        mutations: &[ItemMutation],
    ) -> Result<Vec<Result<MutationResult, MondayError>>, MondayError> {
        self.execute_recovering(mutations, CreateRecovery::NotResent)
            .await
    }

    /// [`Self::execute`], with `recovery` deciding what happens to the creates of a batch
    /// whose outcome is unknown. A batch is tried at most `max_attempts` times; what is still
    /// unknown after that fails with [`MondayError::OutcomeUnknown`].
    pub async fn execute_recovering(
        &self,
        mutations: &[ItemMutation],
        recovery: CreateRecovery<'_>,
    ) -> Result<Vec<Result<MutationResult, MondayError>>, MondayError> {
        let mut results = Vec::with_capacity(mutations.len());
        for range in self.plan_batches(mutations) {
            let chunk = mutations.get(range).unwrap_or_default();
            let mut answered = self.run_batch(chunk, recovery).await?;
            self.settle_renames(chunk, &mut answered).await;
            results.extend(answered);
        }
        Ok(results)
    }

    /// Runs one planned batch until every mutation has a result.
    async fn run_batch(
        &self,
        chunk: &[ItemMutation],
        recovery: CreateRecovery<'_>,
    ) -> Result<Vec<Result<MutationResult, MondayError>>, MondayError> {
        let mut slots: Vec<Slot<'_>> = chunk
            .iter()
            .map(|mutation| Slot {
                mutation,
                result: None,
            })
            .collect();
        let mut round = 0u32;
        while slots.iter().any(Slot::pending) {
            round += 1;
            let pending: Vec<ItemMutation> = slots
                .iter()
                .filter(|s| s.pending())
                .map(|s| s.mutation.clone())
                .collect();
            let creates = pending.iter().any(is_create);
            let batch = documents::build_batch(&pending);
            let estimate = pending.iter().map(ItemMutation::estimated_cost).sum();
            let resend = if creates {
                Resend::OnlyUnapplied
            } else {
                Resend::Always
            };
            let answer = self
                .send_with(&batch.query, batch.variables.clone(), estimate, resend)
                .await;
            let message = match answer {
                Ok(response) => {
                    let answered = self.batch_results(&batch, &pending, &response).await?;
                    for (slot, result) in slots.iter_mut().filter(|s| s.pending()).zip(answered) {
                        slot.result = Some(result);
                    }
                    continue;
                }
                Err(MondayError::OutcomeUnknown { message }) => message,
                Err(other) => return Err(other),
            };
            self.recover_creates(&mut slots, recovery, &message).await?;
            let left = slots.iter().filter(|s| s.pending()).count();
            tracing::warn!(
                round,
                left,
                %message,
                "monday write batch outcome unknown; creates reconciled, the rest sent again"
            );
            if left == 0 {
                break;
            }
            if round >= self.config().max_attempts.max(1) {
                for slot in slots.iter_mut().filter(|s| s.pending()) {
                    slot.result = Some(Err(MondayError::OutcomeUnknown {
                        message: message.clone(),
                    }));
                }
                break;
            }
            tokio::time::sleep(self.backoff(round)).await;
        }
        Ok(slots
            .into_iter()
            .map(|s| {
                s.result.unwrap_or_else(|| {
                    Err(MondayError::Api {
                        code: None,
                        message: "mutation left without a result".into(),
                    })
                })
            })
            .collect())
    }

    /// Gives every pending create of a batch whose outcome is unknown its result, or leaves
    /// it pending to be created again: see [`CreateRecovery`].
    async fn recover_creates(
        &self,
        slots: &mut [Slot<'_>],
        recovery: CreateRecovery<'_>,
        message: &str,
    ) -> Result<(), MondayError> {
        let unknown = || {
            Some(Err(MondayError::OutcomeUnknown {
                message: message.to_owned(),
            }))
        };
        let CreateRecovery::ByKeyColumn(column) = recovery else {
            for slot in slots
                .iter_mut()
                .filter(|s| s.pending() && is_create(s.mutation))
            {
                slot.result = unknown();
            }
            return Ok(());
        };
        // The keys of the pending creates, by board.
        let mut wanted: BTreeMap<BoardId, Vec<String>> = BTreeMap::new();
        for slot in slots.iter_mut().filter(|s| s.pending()) {
            let ItemMutation::CreateItem { board_id, .. } = slot.mutation else {
                continue;
            };
            match create_key(slot.mutation, column) {
                Some(key) => wanted.entry(*board_id).or_default().push(key),
                None => slot.result = unknown(),
            }
        }
        // The items that hold them, oldest first per key.
        let mut found: BTreeMap<(BoardId, String), Vec<Item>> = BTreeMap::new();
        let request = PageRequest {
            limit: MAX_PAGE_SIZE,
            column_ids: Some(vec![column.clone()]),
            query_params: None,
        };
        for (board, keys) in &wanted {
            let items = self
                .items_by_column_values(*board, column, keys, &request)
                .await?;
            for item in items {
                let Some(key) = item
                    .column(column.as_str())
                    .and_then(|c| c.text.clone())
                    .filter(|k| !k.is_empty())
                else {
                    continue;
                };
                found.entry((*board, key)).or_default().push(item);
            }
        }
        for items in found.values_mut() {
            // Newest first: ids grow with time, so `pop` takes the oldest.
            items.sort_by_key(|item| std::cmp::Reverse(item.id));
        }
        // Each found item answers one create with its key; the rest are created again.
        let mut matched = 0usize;
        for slot in slots.iter_mut().filter(|s| s.pending()) {
            let ItemMutation::CreateItem { board_id, .. } = slot.mutation else {
                continue;
            };
            let Some(key) = create_key(slot.mutation, column) else {
                continue;
            };
            if let Some(item) = found.get_mut(&(*board_id, key)).and_then(Vec::pop) {
                matched += 1;
                slot.result = Some(Ok(MutationResult {
                    item_id: item.id,
                    name: Some(item.name),
                    board_id: item.board_id.or(Some(*board_id)),
                }));
            }
        }
        tracing::info!(
            matched,
            column = column.as_str(),
            "creates of a batch with an unknown outcome looked up by key column"
        );
        Ok(())
    }
}

impl MondayClient {
    /// Makes sure each change that renames an item (`name` among its column values) renamed
    /// it. Whether `change_multiple_column_values` renames through `{"name": …}` is UNCERTAIN
    /// (reference §4.1): common practice says it does, a third-party tool says column-value
    /// mutations cannot rename. Both readings are handled:
    ///
    /// - the change is applied but the answer's `name` is not the one sent (the key was
    ///   ignored): the item is renamed through `change_simple_column_value` on `name`;
    /// - the change is refused as naming an unknown column (or a `ColumnValueException` on
    ///   `name`): it is sent again without `name`, then the item is renamed as above. A change
    ///   refused for another column is refused again, and that error is its result.
    ///
    /// A failure of the fallback becomes the mutation's result: it is never lost.
    async fn settle_renames(
        &self,
        chunk: &[ItemMutation],
        results: &mut [Result<MutationResult, MondayError>],
    ) {
        for (mutation, result) in chunk.iter().zip(results.iter_mut()) {
            let ItemMutation::ChangeColumnValues {
                board_id,
                item_id,
                column_values,
                create_labels_if_missing,
            } = mutation
            else {
                continue;
            };
            let Some(name) = column_values
                .get(documents::ITEM_NAME_COLUMN)
                .and_then(Value::as_str)
            else {
                continue;
            };
            match result {
                Ok(done) if done.name.as_deref().is_none_or(|n| n.trim() == name.trim()) => {}
                Ok(kept) => {
                    let old = kept.name.clone();
                    tracing::info!(
                        item_id = item_id.get(),
                        "monday kept the old item name after change_multiple_column_values; renaming through change_simple_column_value"
                    );
                    *result = self
                        .rename_simple(*board_id, *item_id, name, old.as_deref())
                        .await;
                }
                Err(e) if refuses_name(e) => {
                    tracing::info!(
                        item_id = item_id.get(),
                        error = %e,
                        "monday refused the item name among column values; sending them without it and renaming through change_simple_column_value"
                    );
                    let mut rest = column_values.clone();
                    rest.remove(documents::ITEM_NAME_COLUMN);
                    if !rest.is_empty() {
                        let without = ItemMutation::ChangeColumnValues {
                            board_id: *board_id,
                            item_id: *item_id,
                            column_values: rest,
                            create_labels_if_missing: *create_labels_if_missing,
                        };
                        match self
                            .run_batch(std::slice::from_ref(&without), CreateRecovery::NotResent)
                            .await
                        {
                            Ok(mut answered) => match answered.pop() {
                                Some(Ok(_)) => {}
                                Some(Err(e)) => {
                                    *result = Err(e);
                                    continue;
                                }
                                None => continue,
                            },
                            Err(e) => {
                                *result = Err(e);
                                continue;
                            }
                        }
                    }
                    *result = self.rename_simple(*board_id, *item_id, name, None).await;
                }
                Err(_) => {}
            }
        }
    }

    /// `change_simple_column_value(column_id: "name")`: renames an item. The answer's name is
    /// monday's spelling of the new name (it may normalise it); one still equal to `old` is
    /// logged.
    async fn rename_simple(
        &self,
        board_id: BoardId,
        item_id: ItemId,
        name: &str,
        old: Option<&str>,
    ) -> Result<MutationResult, MondayError> {
        let response = self
            .send(
                documents::RENAME_ITEM_SIMPLE,
                serde_json::json!({ "board_id": board_id, "item_id": item_id, "name": name }),
                crate::client::cost::CHANGE_COLUMN_VALUES,
            )
            .await?;
        if let Some(error) = response.errors.first() {
            let mut checked = BTreeMap::new();
            return Err(self.typed(error, Some(board_id), &mut checked).await);
        }
        let item = response
            .data
            .get("change_simple_column_value")
            .filter(|i| !i.is_null())
            .ok_or_else(|| MondayError::Api {
                code: None,
                message: "no result for change_simple_column_value".into(),
            })?;
        let renamed = MutationResult {
            item_id: monday_id(item.get("id"), "item id")?.unwrap_or(item_id),
            name: item.get("name").and_then(Value::as_str).map(str::to_owned),
            board_id: monday_id(item.get("board").and_then(|b| b.get("id")), "board id")?,
        };
        if old.is_some() && renamed.name.as_deref() == old {
            // Not expected under either reading; the answer is returned as it is, so the
            // caller keeps the name monday holds, and the next change tries again.
            tracing::warn!(
                item_id = item_id.get(),
                "monday kept the item name after change_simple_column_value"
            );
        }
        Ok(renamed)
    }
}

/// A change refused because of its `name` key: an unknown column, or a value error on `name`.
fn refuses_name(error: &MondayError) -> bool {
    match error {
        MondayError::InvalidColumnId { .. } => true,
        MondayError::ColumnValue { column_id, .. } => {
            column_id.as_deref() == Some(documents::ITEM_NAME_COLUMN)
        }
        _ => false,
    }
}

fn is_create(mutation: &ItemMutation) -> bool {
    matches!(mutation, ItemMutation::CreateItem { .. })
}

/// The key a create writes into `column` (a text column's value is a plain string).
fn create_key(mutation: &ItemMutation, column: &ColumnId) -> Option<String> {
    match mutation {
        ItemMutation::CreateItem { column_values, .. } => column_values
            .get(column.as_str())
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .map(str::to_owned),
        _ => None,
    }
}

impl MondayClient {
    /// The result of each mutation (`mutations`, in the batch's order) of an answered batch. An
    /// error that belongs to no mutation fails the whole request. A not-found error that
    /// leaves open whether the board is missing is checked against the board (once per board):
    /// a missing board is never taken for a missing item.
    async fn batch_results(
        &self,
        batch: &BatchDocument,
        mutations: &[ItemMutation],
        response: &crate::client::GraphQlResponse,
    ) -> Result<Vec<Result<MutationResult, MondayError>>, MondayError> {
        let mut boards: BTreeMap<BoardId, Result<bool, MondayError>> = BTreeMap::new();
        if let Some(error) = response.errors.iter().find(|e| e.root_field().is_none()) {
            let board = mutations.iter().find_map(board_of);
            return Err(self.typed(error, board, &mut boards).await);
        }
        let mut results = Vec::with_capacity(batch.aliases.len());
        for (i, alias) in batch.aliases.iter().enumerate() {
            if let Some(error) = response
                .errors
                .iter()
                .find(|e| e.root_field() == Some(alias))
            {
                let board = mutations.get(i).and_then(board_of);
                results.push(Err(self.typed(error, board, &mut boards).await));
                continue;
            }
            results.push(match response.data.get(alias) {
                Some(item) if !item.is_null() => mutation_result(item),
                _ => Err(MondayError::Api {
                    code: None,
                    message: format!("no result for mutation `{alias}`"),
                }),
            });
        }
        Ok(results)
    }
}

/// The result of one answered mutation: a malformed or missing item id fails that mutation
/// alone ([`MondayError::InvalidId`]).
fn mutation_result(item: &Value) -> Result<MutationResult, MondayError> {
    Ok(MutationResult {
        item_id: required_id(item.get("id"), "item id")?,
        name: item.get("name").and_then(Value::as_str).map(str::to_owned),
        board_id: monday_id(item.get("board").and_then(|b| b.get("id")), "board id")?,
    })
}

/// The board a mutation names, if it names one.
fn board_of(mutation: &ItemMutation) -> Option<BoardId> {
    match mutation {
        ItemMutation::CreateItem { board_id, .. }
        | ItemMutation::ChangeColumnValues { board_id, .. } => Some(*board_id),
        ItemMutation::DeleteItem { .. } | ItemMutation::ArchiveItem { .. } => None,
    }
}
