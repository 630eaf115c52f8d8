//! Board webhooks: create, delete, list.

use crmmap_ids::BoardId;
use serde_json::{Value, json};

use super::{MondayClient, cost};
use crate::documents;
use crate::error::MondayError;
use crate::types::{ShapeError, Webhook, parse_webhook};

impl MondayClient {
    /// Creates a board webhook for `event` (e.g. `change_column_value`).
    pub async fn create_webhook(
        &self,
        board_id: BoardId,
        url: &str,
        event: &str,
        config: Option<Value>,
    ) -> Result<Webhook, MondayError> {
        let variables = json!({
            "board_id": board_id,
            "url": url,
            "event": event,
            "config": config.map(|c| c.to_string()),
        });
        let data = self
            .send(documents::CREATE_WEBHOOK, variables, cost::WEBHOOK)
            .await?
            .into_data()?;
        parse_webhook(
            data.get("create_webhook")
                .ok_or_else(|| ShapeError("no create_webhook in response".into()))?,
        )
    }

    /// Deletes a webhook.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), MondayError> {
        self.send(
            documents::DELETE_WEBHOOK,
            json!({ "id": id }),
            cost::WEBHOOK,
        )
        .await?
        .into_data()
        .map(|_| ())
    }

    /// A board's webhooks.
    pub async fn webhooks(&self, board_id: BoardId) -> Result<Vec<Webhook>, MondayError> {
        let data = self
            .send(
                documents::LIST_WEBHOOKS,
                json!({ "board_id": board_id }),
                cost::WEBHOOK,
            )
            .await?
            .into_data()?;
        let list = data
            .get("webhooks")
            .and_then(Value::as_array)
            .ok_or_else(|| ShapeError("no webhooks in response".into()))?;
        list.iter().map(parse_webhook).collect()
    }
}
