//! Item reads: by id, page by page (`items_page`, `next_items_page`), and by column values.

use crmmap_ids::{BoardId, ColumnId, ItemId};
use futures::Stream;
use serde_json::{Value, json};

use super::{MAX_ITEMS_BY_ID, MAX_PAGE_SIZE, MondayClient, cost};
use crate::documents;
use crate::error::MondayError;
use crate::types::{Item, ItemsPage, ShapeError, parse_item, parse_items_page};

/// What to read per page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageRequest {
    /// Items per page, 1 to 500 (25 when 0).
    pub limit: u32,
    /// Columns to return; every column when `None`.
    pub column_ids: Option<Vec<ColumnId>>,
    /// `items_page` `query_params` (an `ItemsQuery` object), e.g.
    /// `{"rules": [{"column_id": "text_x", "compare_value": ["a"], "operator": "any_of"}]}`.
    pub query_params: Option<Value>,
}

impl PageRequest {
    /// Estimated complexity of reading one page.
    fn estimate(&self) -> u64 {
        cost::read(
            u64::from(self.limit()),
            self.column_ids.as_ref().map(Vec::len),
        )
    }

    fn limit(&self) -> u32 {
        match self.limit {
            0 => 25,
            n => n.min(MAX_PAGE_SIZE),
        }
    }
}

impl MondayClient {
    /// Items by id (any number; sent 100 per request), with only `column_ids` when given.
    /// Archived and deleted items are included, each with its [`Item::state`] (reference
    /// §3: `items(ids:)` returns them unless `exclude_nonactive`); items that do not exist
    /// are absent from the result.
    pub async fn items_by_id(
        &self,
        ids: &[ItemId],
        column_ids: Option<&[ColumnId]>,
    ) -> Result<Vec<Item>, MondayError> {
        self.items_by_id_with(ids, column_ids, false).await
    }

    /// The live items among `ids`: like [`MondayClient::items_by_id`], with
    /// `exclude_nonactive: true` (schema `Query.items`: "Excludes items that are inactive,
    /// deleted or belong to deleted items"), so archived, deleted and missing items are all
    /// absent. An item answered with another state is dropped as well.
    pub async fn active_items_by_id(
        &self,
        ids: &[ItemId],
        column_ids: Option<&[ColumnId]>,
    ) -> Result<Vec<Item>, MondayError> {
        let mut items = self.items_by_id_with(ids, column_ids, true).await?;
        items.retain(|i| i.inactive().is_none());
        Ok(items)
    }

    async fn items_by_id_with(
        &self,
        ids: &[ItemId],
        column_ids: Option<&[ColumnId]>,
        exclude_nonactive: bool,
    ) -> Result<Vec<Item>, MondayError> {
        let mut items = Vec::with_capacity(ids.len());
        // Absent rather than `false` when every item is wanted (nulls are left out).
        let exclude = exclude_nonactive.then_some(true);
        for chunk in ids.chunks(MAX_ITEMS_BY_ID) {
            let variables = json!({
                "ids": chunk,
                "limit": chunk.len(),
                "exclude_nonactive": exclude,
                "column_ids": column_ids,
            });
            let estimate = cost::read(chunk.len() as u64, column_ids.map(<[ColumnId]>::len));
            let data = self
                .send(documents::ITEMS_BY_ID, variables, estimate)
                .await?
                .into_data()?;
            let list = data
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| ShapeError("no items in response".into()))?;
            for raw in list.iter().filter(|i| !i.is_null()) {
                items.push(parse_item(raw)?);
            }
        }
        Ok(items)
    }

    /// One item by id, archived or deleted ones included (see [`Item::inactive`]); `None`
    /// when it does not exist.
    pub async fn item(
        &self,
        id: ItemId,
        column_ids: Option<&[ColumnId]>,
    ) -> Result<Option<Item>, MondayError> {
        Ok(self
            .items_by_id(&[id], column_ids)
            .await?
            .into_iter()
            .next())
    }

    /// The first page of a board's items.
    pub async fn items_page(
        &self,
        board_id: BoardId,
        request: &PageRequest,
    ) -> Result<ItemsPage, MondayError> {
        let variables = json!({
            "board_id": board_id,
            "limit": request.limit(),
            "query_params": request.query_params,
            "column_ids": request.column_ids,
        });
        let estimate = request.estimate();
        let response = self
            .send(documents::ITEMS_PAGE, variables, estimate)
            .await?;
        let data = self.data_on_board(response, board_id).await?;
        let page = data
            .get("boards")
            .and_then(|b| b.get(0))
            .and_then(|b| b.get("items_page"))
            .ok_or_else(|| MondayError::InvalidBoardId {
                board_id: Some(board_id),
                message: "no such board".into(),
            })?;
        parse_items_page(page)
    }

    /// The page after `cursor`.
    pub async fn next_items_page(
        &self,
        cursor: &str,
        request: &PageRequest,
    ) -> Result<ItemsPage, MondayError> {
        let variables = json!({
            "cursor": cursor,
            "limit": request.limit(),
            "column_ids": request.column_ids,
        });
        let estimate = request.estimate();
        let data = self
            .send(documents::NEXT_ITEMS_PAGE, variables, estimate)
            .await?
            .into_data()?;
        let page = data
            .get("next_items_page")
            .ok_or_else(|| ShapeError("no next_items_page in response".into()))?;
        parse_items_page(page)
    }

    /// Every page of a board's items: `items_page` first, then `next_items_page` until the
    /// cursor is null.
    pub fn items_pages<'a>(
        &'a self,
        board_id: BoardId,
        request: PageRequest,
    ) -> impl Stream<Item = Result<ItemsPage, MondayError>> + 'a {
        enum Next {
            First,
            Cursor(String),
            Done,
        }
        futures::stream::try_unfold(Next::First, move |next| {
            let request = request.clone();
            async move {
                let page = match next {
                    Next::Done => return Ok(None),
                    Next::First => self.items_page(board_id, &request).await?,
                    Next::Cursor(cursor) => self.next_items_page(&cursor, &request).await?,
                };
                let next = page.cursor.clone().map_or(Next::Done, Next::Cursor);
                Ok(Some((page, next)))
            }
        })
    }

    /// Every item of a board, page by page.
    pub fn items<'a>(
        &'a self,
        board_id: BoardId,
        request: PageRequest,
    ) -> impl Stream<Item = Result<Item, MondayError>> + 'a {
        use futures::StreamExt as _;
        self.items_pages(board_id, request).flat_map(|page| {
            let items: Vec<Result<Item, MondayError>> = match page {
                Ok(page) => page.items.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        })
    }

    /// Items whose column `column_id` holds any of `values` (e.g. a Salesforce id), all pages.
    pub async fn items_by_column_values(
        &self,
        board_id: BoardId,
        column_id: &ColumnId,
        values: &[String],
        request: &PageRequest,
    ) -> Result<Vec<Item>, MondayError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let estimate = request.estimate();
        loop {
            // `columns` and `cursor` are mutually exclusive: the cursor carries the filter.
            let columns = match cursor {
                None => json!([{ "column_id": column_id, "column_values": values }]),
                Some(_) => Value::Null,
            };
            let variables = json!({
                "board_id": board_id,
                "columns": columns,
                "cursor": cursor,
                "limit": request.limit(),
                "column_ids": request.column_ids,
            });
            let response = self
                .send(documents::ITEMS_BY_COLUMN_VALUES, variables, estimate)
                .await?;
            let data = self.data_on_board(response, board_id).await?;
            let page =
                parse_items_page(data.get("items_page_by_column_values").ok_or_else(|| {
                    ShapeError("no items_page_by_column_values in response".into())
                })?)?;
            items.extend(page.items);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits_are_clamped_to_monday_bounds() {
        let request = |limit| PageRequest {
            limit,
            ..PageRequest::default()
        };
        assert_eq!(request(0).limit(), 25);
        assert_eq!(request(100).limit(), 100);
        assert_eq!(request(10_000).limit(), MAX_PAGE_SIZE);
    }
}
