//! sObject Collections: creates, updates, upserts and deletes of up to 200 records per request.

use http::Method;
use serde_json::{Map, Value, json};

use super::request::{Request, Target};
use super::{SalesforceClient, check_id, check_name};
use crate::error::{Error, Result};
use crate::types::{NewRecord, RecordResult, RecordUpdate, SaveResult};

/// Largest batch sObject Collections accept.
pub const COLLECTION_BATCH: usize = 200;

fn record_body(sobject: &str, id: Option<&str>, fields: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("attributes".into(), json!({ "type": sobject }));
    if let Some(id) = id {
        m.insert("id".into(), Value::String(id.to_string()));
    }
    for (k, v) in fields {
        if k != "attributes" && !(id.is_some() && k.eq_ignore_ascii_case("id")) {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}

impl SalesforceClient {
    async fn collection_call(
        &self,
        method: Method,
        target: Target,
        body: Option<Value>,
        query: Vec<(String, String)>,
    ) -> Result<Vec<SaveResult>> {
        let mut req = Request::new(method, target);
        req.query = query;
        if let Some(b) = body {
            req = req.json(&b)?;
        }
        self.send(req).await?.json()
    }

    fn index_results(
        offset: usize,
        expected: usize,
        results: Vec<SaveResult>,
    ) -> Result<Vec<RecordResult>> {
        if results.len() != expected {
            return Err(Error::Decode {
                status: 200,
                message: format!(
                    "sObject Collections returned {} results for {expected} records",
                    results.len()
                ),
            });
        }
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| RecordResult {
                index: offset + i,
                id: r.id,
                success: r.success,
                errors: r.errors,
                created: r.created,
            })
            .collect())
    }

    /// Creates records through sObject Collections, 200 per request, in input order. Results
    /// carry the input index. Like [`Self::create`], a request is not resent after a failure
    /// that leaves its outcome unknown. `all_or_none` applies per request of 200: Salesforce has no
    /// transaction spanning several calls. If a whole request fails, the error is returned
    /// and the records of earlier requests stay created.
    pub async fn create_many(
        &self,
        records: &[NewRecord],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let items = records
            .iter()
            .map(|r| Ok(record_body(check_name(&r.sobject)?, None, &r.fields)))
            .collect::<Result<Vec<_>>>()?;
        self.save_records(Method::POST, items, all_or_none).await
    }

    /// Updates records through sObject Collections, 200 per request (see [`Self::create_many`]).
    pub async fn update_many(
        &self,
        records: &[RecordUpdate],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let items = records
            .iter()
            .map(|r| {
                Ok(record_body(
                    check_name(&r.sobject)?,
                    Some(check_id(&r.id)?),
                    &r.fields,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.save_records(Method::PATCH, items, all_or_none).await
    }

    /// Sends record bodies of any objects to `/composite/sobjects` (see [`Self::save_in_chunks`]).
    async fn save_records(
        &self,
        method: Method,
        items: Vec<Value>,
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let target = || Ok(Self::data(&["composite", "sobjects"]));
        self.save_in_chunks(method, target, items, all_or_none)
            .await
    }

    /// Upserts records of one object by an external id field through sObject Collections
    /// (`PATCH /composite/sobjects/{sobject}/{field}`, v46+), 200 per request. Each record
    /// must carry the external id field.
    pub async fn upsert_many(
        &self,
        sobject: &str,
        external_field: &str,
        records: &[Map<String, Value>],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let target = || -> Result<Target> {
            Ok(Self::data(&[
                "composite",
                "sobjects",
                check_name(sobject)?,
                check_name(external_field)?,
            ]))
        };
        let items = records
            .iter()
            .map(|r| record_body(sobject, None, r))
            .collect();
        self.save_in_chunks(Method::PATCH, target, items, all_or_none)
            .await
    }

    /// Sends record bodies through sObject Collections, 200 per request, in order; results
    /// carry the input index. Requests already sent stay applied if a later one fails.
    async fn save_in_chunks(
        &self,
        method: Method,
        target: impl Fn() -> Result<Target>,
        items: Vec<Value>,
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        Self::in_batches(&items, |chunk| {
            let body = json!({"allOrNone": all_or_none, "records": chunk});
            let (method, target) = (method.clone(), target());
            async move {
                self.collection_call(method, target?, Some(body), vec![])
                    .await
            }
        })
        .await
    }

    /// Deletes records by id through sObject Collections, 200 per request.
    pub async fn delete_many<S: AsRef<str>>(
        &self,
        ids: &[S],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        Self::in_batches(ids, |chunk| {
            let list = chunk
                .iter()
                .map(|i| check_id(i.as_ref()).map(str::to_string))
                .collect::<Result<Vec<_>>>()
                .map(|ids| ids.join(","));
            async move {
                let query = vec![
                    ("ids".to_string(), list?),
                    ("allOrNone".to_string(), all_or_none.to_string()),
                ];
                let target = Self::data(&["composite", "sobjects"]);
                self.collection_call(Method::DELETE, target, None, query)
                    .await
            }
        })
        .await
    }

    /// Calls `call` on each batch of 200 `items`, in order, and gives each result the index of
    /// its record in `items`. Batches already sent stay applied if a later one fails.
    async fn in_batches<T, Fut>(
        items: &[T],
        mut call: impl FnMut(&[T]) -> Fut,
    ) -> Result<Vec<RecordResult>>
    where
        Fut: Future<Output = Result<Vec<SaveResult>>>,
    {
        let mut out = Vec::with_capacity(items.len());
        for (chunk_no, chunk) in items.chunks(COLLECTION_BATCH).enumerate() {
            let results = call(chunk).await?;
            out.extend(Self::index_results(
                chunk_no * COLLECTION_BATCH,
                chunk.len(),
                results,
            )?);
        }
        Ok(out)
    }
}
