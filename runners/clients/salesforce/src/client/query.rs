//! SOQL queries: pages streamed by following `nextRecordsUrl`, or records one by one.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::Method;
use serde::de::DeserializeOwned;

use super::SalesforceClient;
use super::request::{Request, Target};
use crate::error::Result;
use crate::types::{QueryResponse, Record};

impl SalesforceClient {
    async fn query_page<T: DeserializeOwned>(
        &self,
        target: Target,
        q: Option<String>,
    ) -> Result<QueryResponse<T>> {
        let mut req = Request::new(Method::GET, target);
        if let Some(q) = q {
            req.query.push(("q".into(), q));
        }
        if let Some(n) = self.inner.config.query_batch_size {
            req.headers
                .push(("Sforce-Query-Options", format!("batchSize={n}")));
        }
        self.send(req).await?.json()
    }

    fn pages<T>(
        &self,
        soql: String,
        resource: &'static str,
    ) -> BoxStream<'static, Result<QueryResponse<T>>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        enum Next {
            First(String),
            More(String),
            Done,
        }
        let client = self.clone();
        stream::try_unfold(Next::First(soql), move |state| {
            let client = client.clone();
            async move {
                let page: QueryResponse<T> = match state {
                    Next::Done => return Ok(None),
                    Next::First(q) => client.query_page(Self::data(&[resource]), Some(q)).await?,
                    Next::More(url) => client.query_page(Target::Path(url), None).await?,
                };
                let next = match (&page.next_records_url, page.done) {
                    (Some(url), false) => Next::More(url.clone()),
                    _ => Next::Done,
                };
                Ok(Some((page, next)))
            }
        })
        .boxed()
    }

    /// Runs a SOQL query (`/query`) and streams its pages, following `nextRecordsUrl`.
    pub fn query_pages<T>(
        &self,
        soql: impl Into<String>,
    ) -> BoxStream<'static, Result<QueryResponse<T>>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages(soql.into(), "query")
    }

    /// Like [`Self::query_pages`] on `/queryAll`, which also returns deleted and archived rows.
    pub fn query_all_pages<T>(
        &self,
        soql: impl Into<String>,
    ) -> BoxStream<'static, Result<QueryResponse<T>>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages(soql.into(), "queryAll")
    }

    /// Runs a SOQL query and streams its records, page after page.
    pub fn query<T>(&self, soql: impl Into<String>) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.query_pages(soql)
            .map_ok(|p: QueryResponse<T>| stream::iter(p.records.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Like [`Self::query`] on `/queryAll` (deleted rows included, with `IsDeleted`).
    pub fn query_all<T>(&self, soql: impl Into<String>) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.query_all_pages(soql)
            .map_ok(|p: QueryResponse<T>| stream::iter(p.records.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Runs a query and collects every record.
    pub async fn query_collect(&self, soql: impl Into<String>) -> Result<Vec<Record>> {
        self.query::<Record>(soql).try_collect().await
    }
}
