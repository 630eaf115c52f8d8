//! Single rows: `GET`, `POST`, `PATCH` (plain and conditional), `DELETE` and upsert by
//! external id on `/sobjects/{sobject}/…`.

use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::request::{Request, http_date};
use super::{SalesforceClient, check_name, not_found};
use crate::error::{ApiError, Error, Result};
use crate::ids::RecordId;
use crate::types::{ConditionalUpdate, SaveResult, UpsertOutcome};

impl SalesforceClient {
    /// `GET /sobjects/{sobject}/{id}[?fields=…]`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        sobject: &str,
        id: &RecordId,
        fields: Option<&[&str]>,
    ) -> Result<T> {
        let mut req = Request::new(
            Method::GET,
            Self::data(&["sobjects", check_name(sobject)?, id.as_str()]),
        );
        if let Some(fields) = fields {
            for f in fields {
                check_name(f)?;
            }
            req.query.push(("fields".into(), fields.join(",")));
        }
        self.send(req)
            .await
            .map_err(|e| not_found(e, sobject, id))?
            .json()
    }

    /// `POST /sobjects/{sobject}/`; returns the new id. Not resent after a failure that leaves
    /// its outcome unknown (a timeout, a lost connection, a 5xx): the record may exist, and
    /// the caller looks it up before creating it again.
    pub async fn create(&self, sobject: &str, fields: &impl Serialize) -> Result<String> {
        let req = Request::new(
            Method::POST,
            Self::data(&["sobjects", check_name(sobject)?, ""]),
        )
        .json(fields)?;
        let result: SaveResult = self.send(req).await?.json()?;
        match (result.success, result.id) {
            (true, Some(id)) => Ok(id),
            _ => Err(Error::Api(ApiError {
                status: 201,
                errors: result.errors,
            })),
        }
    }

    /// `PATCH /sobjects/{sobject}/{id}`. With `if_unmodified_since`, Salesforce refuses the
    /// change (412 → [`Error::Conflict`]) when the record was modified after that time
    /// (second granularity); [`Self::update_if_unmodified`] returns that outcome as a value.
    pub async fn update(
        &self,
        sobject: &str,
        id: &RecordId,
        fields: &impl Serialize,
        if_unmodified_since: Option<OffsetDateTime>,
    ) -> Result<()> {
        let Some(since) = if_unmodified_since else {
            let req = Request::new(
                Method::PATCH,
                Self::data(&["sobjects", check_name(sobject)?, id.as_str()]),
            )
            .json(fields)?;
            return self
                .send(req)
                .await
                .map(|_| ())
                .map_err(|e| not_found(e, sobject, id));
        };
        match self
            .update_if_unmodified(sobject, id, fields, since)
            .await?
        {
            ConditionalUpdate::Applied { .. } => Ok(()),
            ConditionalUpdate::Modified => Err(Error::Conflict {
                sobject: sobject.to_string(),
                id: id.to_string(),
                since: http_date(since),
                errors: Vec::new(),
            }),
        }
    }

    /// Conditional update: `PATCH /sobjects/{sobject}/{id}` with `If-Unmodified-Since: since`
    /// (an HTTP date, so `since` counts to the second; reference §6).
    ///
    /// - [`ConditionalUpdate::Applied`]: HTTP 204, the record was not modified after `since`
    ///   and the change is saved. `date` is the response's `Date` header. A 204 has no body,
    ///   so it does not say the record's new `LastModifiedDate`; the save happened before the
    ///   answer, so `date` is in the same second as the save or later, and passing it as the
    ///   next call's `since` keeps that call's condition right without reading the record.
    ///   (An edit by someone else within that same second cannot be told apart: the validators
    ///   have second granularity.)
    /// - [`ConditionalUpdate::Modified`]: HTTP 412, the record's `LastModifiedDate` is after
    ///   `since` (second precision); nothing was written. Read the record to decide.
    /// - `Err`: anything else, classified as by [`Self::update`] (404 → [`Error::NotFound`],
    ///   400 refusals → [`Error::Api`], …).
    ///
    /// Transient failures are retried like any update. A retry after a failure that leaves the
    /// first attempt's outcome unknown (a timeout, a 5xx) can answer `Modified` because that
    /// first attempt was applied: `Modified` means "changed after `since`", possibly by this
    /// very change.
    pub async fn update_if_unmodified(
        &self,
        sobject: &str,
        id: &RecordId,
        fields: &impl Serialize,
        since: OffsetDateTime,
    ) -> Result<ConditionalUpdate> {
        let mut req = Request::new(
            Method::PATCH,
            Self::data(&["sobjects", check_name(sobject)?, id.as_str()]),
        )
        .json(fields)?;
        req.headers.push(("If-Unmodified-Since", http_date(since)));
        match self.send(req).await {
            Ok(raw) => Ok(ConditionalUpdate::Applied { date: raw.date }),
            Err(Error::Api(api)) if api.status == 412 => Ok(ConditionalUpdate::Modified),
            Err(e) => Err(not_found(e, sobject, id)),
        }
    }

    /// `DELETE /sobjects/{sobject}/{id}`.
    pub async fn delete(&self, sobject: &str, id: &RecordId) -> Result<()> {
        let req = Request::new(
            Method::DELETE,
            Self::data(&["sobjects", check_name(sobject)?, id.as_str()]),
        );
        self.send(req)
            .await
            .map(|_| ())
            .map_err(|e| not_found(e, sobject, id))
    }

    /// `PATCH /sobjects/{sobject}/{external_field}/{value}`: creates (201) or updates (200)
    /// the record with that external id; 300 when several records have it.
    pub async fn upsert(
        &self,
        sobject: &str,
        external_field: &str,
        value: &str,
        fields: &impl Serialize,
    ) -> Result<UpsertOutcome> {
        let target = Self::data(&[
            "sobjects",
            check_name(sobject)?,
            check_name(external_field)?,
            value,
        ]);
        let req = Request::new(Method::PATCH, target).json(fields)?;
        let raw = self.send(req).await?;
        match raw.status {
            StatusCode::CREATED => {
                let r: SaveResult = raw.json()?;
                r.id.map(UpsertOutcome::Created)
                    .ok_or_else(|| Error::Decode {
                        status: 201,
                        message: "upsert result without id".into(),
                    })
            }
            StatusCode::MULTIPLE_CHOICES => Ok(UpsertOutcome::MultipleMatches(raw.json()?)),
            StatusCode::NO_CONTENT => Ok(UpsertOutcome::Updated(None)),
            _ => {
                let r: SaveResult = raw.json()?;
                Ok(if r.created == Some(true) {
                    UpsertOutcome::Created(r.id.unwrap_or_default())
                } else {
                    UpsertOutcome::Updated(r.id)
                })
            }
        }
    }
}
