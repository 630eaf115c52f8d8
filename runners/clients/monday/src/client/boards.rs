//! Boards: whether one exists, boards with their columns, and the typed error of a request
//! on a board (a missing board told apart from a missing item).

use std::collections::BTreeMap;

use crmmap_ids::{BoardId, ColumnId};
use serde_json::{Value, json};

use super::{GraphQlResponse, MondayClient};
use crate::documents;
use crate::error::{GraphQlError, MondayError, board_unsure, classify};
use crate::types::{Board, ShapeError, parse_board};

impl MondayClient {
    /// Whether the board exists and the token sees it: one cheap `boards(ids:)` read (a deleted
    /// or archived board is not returned: `state` defaults to `active`, schema `Query.boards`).
    pub async fn board_exists(&self, board_id: BoardId) -> Result<bool, MondayError> {
        let data = self
            .send(
                documents::BOARD_EXISTS,
                json!({ "board_ids": [board_id] }),
                10,
            )
            .await?
            .into_data()?;
        Ok(data
            .get("boards")
            .and_then(Value::as_array)
            .is_some_and(|boards| boards.iter().any(|b| !b.is_null())))
    }

    /// The typed error for `error` of a request on `board`. When the error leaves open whether
    /// the board or something on it is missing (`ResourceNotFoundException` is used for both,
    /// reference §1.5), the board is looked up first (at most once per board, `checked`): a
    /// missing board is [`MondayError::InvalidBoardId`], never an item gone; if the lookup
    /// fails, its error is returned.
    pub(crate) async fn typed(
        &self,
        error: &GraphQlError,
        board: Option<BoardId>,
        checked: &mut BTreeMap<BoardId, Result<bool, MondayError>>,
    ) -> MondayError {
        let typed = match (classify(error), board) {
            (
                MondayError::InvalidBoardId {
                    board_id: None,
                    message,
                },
                Some(b),
            ) => MondayError::InvalidBoardId {
                board_id: Some(b),
                message,
            },
            (other, _) => other,
        };
        let Some(board) = board.filter(|_| board_unsure(error)) else {
            return typed;
        };
        let exists = match checked.get(&board) {
            Some(known) => known.clone(),
            None => {
                let found = self.board_exists(board).await;
                checked.insert(board, found.clone());
                found
            }
        };
        match exists {
            Ok(true) => typed,
            Ok(false) => MondayError::InvalidBoardId {
                board_id: Some(board),
                message: error.message.clone(),
            },
            Err(e) => e,
        }
    }

    /// `data`, or the typed error of the first error, for a request on `board_id`.
    pub(super) async fn data_on_board(
        &self,
        response: GraphQlResponse,
        board_id: BoardId,
    ) -> Result<Value, MondayError> {
        match response.errors.first() {
            Some(error) => Err(self
                .typed(error, Some(board_id), &mut BTreeMap::new())
                .await),
            None => Ok(response.data),
        }
    }

    /// Boards with their columns (`column_ids` limits the columns).
    pub async fn boards(
        &self,
        board_ids: &[BoardId],
        column_ids: Option<&[ColumnId]>,
    ) -> Result<Vec<Board>, MondayError> {
        let variables = json!({ "board_ids": board_ids, "column_ids": column_ids });
        let data = self
            .send(
                documents::BOARD_COLUMNS,
                variables,
                10 + 10 * board_ids.len() as u64,
            )
            .await?
            .into_data()?;
        let boards = data
            .get("boards")
            .and_then(Value::as_array)
            .ok_or_else(|| ShapeError("no boards in response".into()))?;
        boards
            .iter()
            .filter(|b| !b.is_null())
            .map(parse_board)
            .collect()
    }

    /// One board with its columns and their labels.
    pub async fn board(&self, board_id: BoardId) -> Result<Board, MondayError> {
        self.boards(&[board_id], None)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| MondayError::InvalidBoardId {
                board_id: Some(board_id),
                message: "no such board".into(),
            })
    }
}
