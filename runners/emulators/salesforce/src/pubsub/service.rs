//! The PubSub gRPC service: Subscribe, GetSchema, GetTopic (Publish and the managed
//! subscription answer `UNIMPLEMENTED`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crmmap_pubsub::error::{ERROR_CODE_TRAILER, LIMIT_EXCEEDED, REPLAY_ID_CORRUPTED};
use crmmap_pubsub::proto::pub_sub_server::PubSub;
use crmmap_pubsub::proto::{
    ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent, ReplayPreset, SchemaInfo,
    SchemaRequest, TopicInfo, TopicRequest,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::avro::EntitySchema;
use super::source::{EventSource, OutsideRetention, SourceEvent};
use crate::SalesforceEmulator;

/// Salesforce's cap on the events requested per Subscribe call (realtime-and-limits.md §3).
const MAX_REQUESTED: i64 = 100;

/// Counters a test reads.
#[derive(Debug, Default)]
pub struct PubSubCounters {
    pub get_schema: AtomicU64,
    pub get_topic: AtomicU64,
    pub subscribe: AtomicU64,
    pub events_sent: AtomicU64,
    pub keepalives: AtomicU64,
    /// The most events a subscription ever had requested and not yet received.
    pub max_outstanding: AtomicU64,
}

#[derive(Clone)]
pub(crate) struct Service {
    pub(crate) org: SalesforceEmulator,
    pub(crate) source: Arc<dyn EventSource>,
    pub(crate) schemas: Arc<Mutex<HashMap<String, Arc<EntitySchema>>>>,
    pub(crate) counters: Arc<PubSubCounters>,
    pub(crate) keepalive: Duration,
    /// Becomes `true` when the endpoint stops: open streams end with `UNAVAILABLE`.
    pub(crate) stop: tokio::sync::watch::Receiver<bool>,
}

/// The entity of a topic: `/data/LeadChangeEvent` → `Lead`, `/data/Grant__ChangeEvent` →
/// `Grant__c`, `/data/ChangeEvents` → every entity (§1b channels).
fn topic_entity(topic: &str) -> Option<Option<String>> {
    let name = topic.strip_prefix("/data/")?;
    if name == "ChangeEvents" {
        return Some(None);
    }
    if let Some(base) = name.strip_suffix("__ChangeEvent") {
        return Some(Some(format!("{base}__c")));
    }
    name.strip_suffix("ChangeEvent")
        .filter(|b| !b.is_empty())
        .map(|b| Some(b.to_owned()))
}

fn with_code(mut status: Status, code: &str) -> Status {
    if let Ok(v) = code.parse() {
        status.metadata_mut().insert(ERROR_CODE_TRAILER, v);
    }
    status
}

impl Service {
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let md = request.metadata();
        let token = md.get("accesstoken").and_then(|v| v.to_str().ok());
        let instance = md.get("instanceurl").and_then(|v| v.to_str().ok());
        let tenant = md.get("tenantid").and_then(|v| v.to_str().ok());
        match (token, instance, tenant) {
            (Some(token), Some(_), Some(_)) if self.org.token_valid(token) => Ok(()),
            _ => Err(Status::unauthenticated("invalid or missing session")),
        }
    }

    fn schema_for(&self, entity: &str) -> Result<Arc<EntitySchema>, Status> {
        let mut schemas = self.schemas.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = schemas
            .values()
            .find(|s| s.entity.eq_ignore_ascii_case(entity))
        {
            return Ok(s.clone());
        }
        let fields = self
            .source
            .body_fields(entity)
            .ok_or_else(|| Status::not_found(format!("no change events for {entity}")))?;
        let schema = EntitySchema::build(entity, fields)
            .map_err(|e| Status::internal(format!("schema of {entity}: {e}")))?;
        let schema = Arc::new(schema);
        schemas.insert(schema.id.clone(), schema.clone());
        Ok(schema)
    }
}

#[tonic::async_trait]
impl PubSub for Service {
    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        self.authorize(&request)?;
        self.counters.get_schema.fetch_add(1, Ordering::Relaxed);
        let id = request.into_inner().schema_id;
        let schemas = self.schemas.lock().unwrap_or_else(PoisonError::into_inner);
        let schema = schemas
            .get(&id)
            .ok_or_else(|| Status::not_found(format!("no schema {id}")))?;
        Ok(Response::new(SchemaInfo {
            schema_json: schema.json.clone(),
            schema_id: id,
            rpc_id: String::new(),
        }))
    }

    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        self.authorize(&request)?;
        self.counters.get_topic.fetch_add(1, Ordering::Relaxed);
        let topic = request.into_inner().topic_name;
        let entity =
            topic_entity(&topic).ok_or_else(|| Status::not_found(format!("no topic {topic}")))?;
        let schema_id = match entity {
            Some(entity) => self.schema_for(&entity)?.id.clone(),
            None => String::new(),
        };
        Ok(Response::new(TopicInfo {
            topic_name: topic,
            tenant_guid: String::new(),
            can_publish: false,
            can_subscribe: true,
            schema_id,
            rpc_id: String::new(),
        }))
    }

    async fn subscribe(
        &self,
        request: Request<Streaming<FetchRequest>>,
    ) -> Result<
        Response<
            std::pin::Pin<Box<dyn futures::Stream<Item = Result<FetchResponse, Status>> + Send>>,
        >,
        Status,
    > {
        self.authorize(&request)?;
        self.counters.subscribe.fetch_add(1, Ordering::Relaxed);
        let mut requests = request.into_inner();
        let first = requests
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("no FetchRequest"))?;
        let entity = topic_entity(&first.topic_name)
            .ok_or_else(|| Status::not_found(format!("no topic {}", first.topic_name)))?;
        if let Some(entity) = &entity {
            self.schema_for(entity)?;
        }
        let start = match ReplayPreset::try_from(first.replay_preset) {
            Ok(ReplayPreset::Latest) => self.source.latest_replay_id(),
            Ok(ReplayPreset::Earliest) => self.source.earliest_cursor(),
            Ok(ReplayPreset::Custom) => {
                let bytes: [u8; 8] = first.replay_id.as_slice().try_into().map_err(|_| {
                    with_code(
                        Status::invalid_argument("the specified Replay ID value is invalid"),
                        REPLAY_ID_CORRUPTED,
                    )
                })?;
                let id = u64::from_be_bytes(bytes);
                if id > self.source.latest_replay_id() {
                    return Err(with_code(
                        Status::invalid_argument("the specified Replay ID value is invalid"),
                        REPLAY_ID_CORRUPTED,
                    ));
                }
                id
            }
            Err(_) => return Err(Status::invalid_argument("unknown replay preset")),
        };
        let (tx, rx) = mpsc::channel(16);
        let session = Session {
            service: self.clone(),
            entity,
            cursor: start,
            requested: i64::from(first.num_requested.max(0)).min(MAX_REQUESTED),
        };
        tokio::spawn(session.run(requests, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// One Subscribe stream.
struct Session {
    service: Service,
    entity: Option<String>,
    /// The last replay id read (delivered, or skipped as another entity's).
    cursor: u64,
    /// Events requested and not yet sent (never above 100).
    requested: i64,
}

type Out = mpsc::Sender<Result<FetchResponse, Status>>;

impl Session {
    async fn run(mut self, mut requests: Streaming<FetchRequest>, out: Out) {
        let mut requests_open = true;
        let mut stop = self.service.stop.clone();
        loop {
            if *stop.borrow_and_update() {
                let _ = out
                    .send(Err(Status::unavailable("the server is shutting down")))
                    .await;
                return;
            }
            self.note_outstanding();
            if self.requested > 0 {
                match self.deliver(&out).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(status) => {
                        let _ = out.send(Err(status)).await;
                        return;
                    }
                }
            }
            let source = self.service.source.clone();
            let cursor = self.cursor;
            let want = self.requested > 0;
            let wait_events = async move {
                if want {
                    source.wait_after(cursor).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = wait_events => {}
                more = requests.message(), if requests_open => match more {
                    Ok(Some(req)) => {
                        // Excess requests are clamped to 100 outstanding (§3).
                        self.requested = (self.requested + i64::from(req.num_requested.max(0)))
                            .min(MAX_REQUESTED);
                    }
                    Ok(None) | Err(_) => requests_open = false,
                },
                () = tokio::time::sleep(self.service.keepalive) => {
                    self.service.counters.keepalives.fetch_add(1, Ordering::Relaxed);
                    if out.send(Ok(self.response(Vec::new()))).await.is_err() {
                        return;
                    }
                }
                () = out.closed() => return,
                _ = stop.changed() => {}
            }
        }
    }

    fn note_outstanding(&self) {
        let n = u64::try_from(self.requested.max(0)).unwrap_or(0);
        self.service
            .counters
            .max_outstanding
            .fetch_max(n, Ordering::Relaxed);
    }

    fn response(&self, events: Vec<ConsumerEvent>) -> FetchResponse {
        let latest = events.last().map_or_else(
            || self.cursor.to_be_bytes().to_vec(),
            |e| e.replay_id.clone(),
        );
        FetchResponse {
            events,
            latest_replay_id: latest,
            rpc_id: String::new(),
            pending_num_requested: i32::try_from(self.requested).unwrap_or(0),
        }
    }

    /// Sends what is available, up to what was requested: `Ok(true)` if anything was read.
    async fn deliver(&mut self, out: &Out) -> Result<bool, Status> {
        let limit = usize::try_from(self.requested).unwrap_or(0);
        let read = self.service.source.read_after(self.cursor, 200).map_err(|OutsideRetention| {
            with_code(
                Status::invalid_argument(
                    "the specified Replay ID value is invalid: it is outside the retention period",
                ),
                REPLAY_ID_CORRUPTED,
            )
        })?;
        if read.is_empty() {
            return Ok(false);
        }
        let mut chosen: Vec<SourceEvent> = Vec::new();
        let mut cursor = self.cursor;
        for e in read {
            if chosen.len() == limit {
                break;
            }
            cursor = e.replay_id;
            let wanted = self
                .entity
                .as_ref()
                .is_none_or(|t| t.eq_ignore_ascii_case(&e.entity));
            if wanted {
                chosen.push(e);
            }
        }
        if !chosen.is_empty() {
            let n = u64::try_from(chosen.len()).unwrap_or(u64::MAX);
            if self.service.source.count_delivery(n).is_err() {
                return Err(with_code(
                    Status::resource_exhausted(
                        "You have exceeded the event delivery limit for your org",
                    ),
                    LIMIT_EXCEEDED,
                ));
            }
            let mut events = Vec::with_capacity(chosen.len());
            for e in &chosen {
                let schema = self.service.schema_for(&e.entity)?;
                let payload = schema
                    .encode(&e.payload)
                    .map_err(|err| Status::internal(format!("event {}: {err}", e.replay_id)))?;
                events.push(ConsumerEvent {
                    event: Some(ProducerEvent {
                        id: e.event_id.clone(),
                        schema_id: schema.id.clone(),
                        payload,
                        headers: Vec::new(),
                    }),
                    replay_id: e.replay_id.to_be_bytes().to_vec(),
                });
            }
            self.requested -= i64::try_from(events.len()).unwrap_or(0);
            self.cursor = cursor;
            self.service
                .counters
                .events_sent
                .fetch_add(n, Ordering::Relaxed);
            out.send(Ok(self.response(events)))
                .await
                .map_err(|_| Status::cancelled("subscriber gone"))?;
        } else {
            self.cursor = cursor;
        }
        Ok(true)
    }
}
