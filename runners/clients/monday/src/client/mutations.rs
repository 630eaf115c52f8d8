//! Item mutations: cost estimates, batch planning, and one mutation at a time.

use crmmap_ids::{BoardId, ItemId};
use serde_json::{Map, Value};

use super::{MondayClient, cost};
use crate::documents::ItemMutation;
use crate::error::MondayError;
use crate::types::ShapeError;

/// The result of one successful mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationResult {
    /// Id of the created or changed item.
    pub item_id: ItemId,
    /// Its name after the mutation.
    pub name: Option<String>,
    /// Its board, when returned.
    pub board_id: Option<BoardId>,
}

impl ItemMutation {
    /// The complexity this mutation is estimated to cost (what batches are planned by, and
    /// what a run reports as spent).
    pub fn estimated_cost(&self) -> u64 {
        match self {
            ItemMutation::CreateItem { .. } => cost::CREATE_ITEM,
            ItemMutation::ChangeColumnValues { .. } => cost::CHANGE_COLUMN_VALUES,
            ItemMutation::DeleteItem { .. } | ItemMutation::ArchiveItem { .. } => {
                cost::DELETE_OR_ARCHIVE
            }
        }
    }
}

impl MondayClient {
    /// Splits mutations into batches by count and estimated complexity (never above the
    /// per-minute budget, as configured or announced by the server, so that a batch can
    /// always run).
    pub fn plan_batches(&self, mutations: &[ItemMutation]) -> Vec<std::ops::Range<usize>> {
        let max_count = self.config.batch_max_mutations.max(1);
        let max_cost = self.config.batch_max_complexity.min(self.budget.limit());
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut cost = 0;
        for (i, mutation) in mutations.iter().enumerate() {
            let c = mutation.estimated_cost();
            if i > start && (i - start >= max_count || cost + c > max_cost) {
                ranges.push(start..i);
                start = i;
                cost = 0;
            }
            cost += c;
        }
        if start < mutations.len() {
            ranges.push(start..mutations.len());
        }
        ranges
    }

    async fn execute_one(&self, mutation: ItemMutation) -> Result<MutationResult, MondayError> {
        self.execute(std::slice::from_ref(&mutation))
            .await?
            .pop()
            .unwrap_or_else(|| Err(ShapeError("no mutation result".into()).into()))
    }

    /// Creates an item.
    pub async fn create_item(
        &self,
        board_id: BoardId,
        item_name: &str,
        column_values: Map<String, Value>,
        create_labels_if_missing: bool,
    ) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::CreateItem {
            board_id,
            item_name: item_name.to_owned(),
            column_values,
            group_id: None,
            create_labels_if_missing,
        })
        .await
    }

    /// Changes several column values of an item (`name` renames it).
    pub async fn change_column_values(
        &self,
        board_id: BoardId,
        item_id: ItemId,
        column_values: Map<String, Value>,
        create_labels_if_missing: bool,
    ) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::ChangeColumnValues {
            board_id,
            item_id,
            column_values,
            create_labels_if_missing,
        })
        .await
    }

    /// Deletes an item.
    pub async fn delete_item(&self, item_id: ItemId) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::DeleteItem { item_id }).await
    }

    /// Archives an item.
    pub async fn archive_item(&self, item_id: ItemId) -> Result<MutationResult, MondayError> {
        self.execute_one(ItemMutation::ArchiveItem { item_id })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MondayConfig;

    fn create(n: usize) -> ItemMutation {
        ItemMutation::CreateItem {
            board_id: BoardId::new(1),
            item_name: format!("item {n}"),
            column_values: Map::new(),
            group_id: None,
            create_labels_if_missing: false,
        }
    }

    #[test]
    fn batches_are_capped_by_count_complexity_and_budget() {
        let mut config = MondayConfig::new("t");
        config.batch_max_mutations = 4;
        config.batch_max_complexity = 25_000;
        let client = MondayClient::new(config.clone()).unwrap();
        let mutations: Vec<_> = (0..7).map(create).collect();
        // 10,000 per create: at most two fit in 25,000.
        assert_eq!(client.plan_batches(&mutations), [0..2, 2..4, 4..6, 6..7]);

        config.batch_max_complexity = 1_000_000;
        let client = MondayClient::new(config.clone()).unwrap();
        assert_eq!(client.plan_batches(&mutations), [0..4, 4..7]);

        // A budget smaller than one mutation still lets each run alone.
        config.complexity_budget_per_minute = 5_000;
        let client = MondayClient::new(config).unwrap();
        assert_eq!(client.plan_batches(&mutations[..2]), [0..1, 1..2]);
        assert!(client.plan_batches(&[]).is_empty());
    }
}
