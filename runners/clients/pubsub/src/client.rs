//! The connection to the Pub/Sub API: the channel, the auth metadata on every call, GetTopic,
//! and GetSchema behind a schema cache (one call per schema id for the client's lifetime).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use crmmap_backoff::Backoff;
use crmmap_secret::Secret;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

use crate::avro_json::EventSchema;
use crate::error::PubSubError;
use crate::proto::pub_sub_client::PubSubClient;
use crate::proto::{SchemaRequest, TopicInfo, TopicRequest};
use crate::subscription::{Start, Subscription};

/// The production endpoint (realtime-and-limits.md §3).
pub const ENDPOINT: &str = "https://api.pubsub.salesforce.com:7443";
/// Salesforce's limit on the events one Subscribe call may have requested (§3, flow control).
pub const MAX_REQUESTED: i32 = 100;

/// How to reach the API and how to behave when it fails.
#[derive(Clone, Debug)]
pub struct PubSubConfig {
    /// `https://api.pubsub.salesforce.com:7443`, or an emulator's `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The OAuth access token (metadata `accesstoken`).
    pub access_token: Secret,
    /// The org's instance URL (metadata `instanceurl`).
    pub instance_url: String,
    /// The org id (metadata `tenantid`).
    pub tenant_id: String,
    /// Events requested at a time; clamped to 1..=100.
    pub batch_size: i32,
    /// How failures are ridden out.
    pub retries: Retries,
}

/// How a subscription rides out failures before it gives up.
#[derive(Clone, Copy, Debug)]
pub struct Retries {
    /// Delay before reconnecting after a transient failure.
    pub reconnect: Backoff,
    /// Transient failures in a row (with no event or keepalive between them) before giving up.
    pub max_attempts: u32,
    /// Wait while the delivery allocation is exceeded (an outage).
    pub outage_wait: Backoff,
    /// Outage waits in a row before giving up (the allocation is a rolling 24 hours).
    pub max_outage_waits: u32,
}

impl Default for Retries {
    /// Reconnect from 1 s to 1 min (equal jitter, 10 attempts), outage waits from 5 min to
    /// 30 min (48 waits, about a day).
    fn default() -> Self {
        Retries {
            reconnect: Backoff::new(
                Duration::from_secs(1),
                Duration::from_secs(60),
                Backoff::EQUAL_JITTER,
            ),
            max_attempts: 10,
            outage_wait: Backoff::new(
                Duration::from_secs(300),
                Duration::from_secs(1800),
                Backoff::EQUAL_JITTER,
            ),
            max_outage_waits: 48,
        }
    }
}

impl PubSubConfig {
    /// Defaults for production: batches of 100, [`Retries::default`].
    pub fn new(
        endpoint: impl Into<String>,
        access_token: Secret,
        instance_url: impl Into<String>,
        tenant_id: impl Into<String>,
    ) -> Self {
        PubSubConfig {
            endpoint: endpoint.into(),
            access_token,
            instance_url: instance_url.into(),
            tenant_id: tenant_id.into(),
            batch_size: MAX_REQUESTED,
            retries: Retries::default(),
        }
    }
}

/// Adds `accesstoken`, `instanceurl` and `tenantid` to every call. The token value is marked
/// sensitive, so tonic and tracing never print it.
#[derive(Clone, Debug)]
pub struct Auth {
    token: Arc<RwLock<AsciiMetadataValue>>,
    instance_url: AsciiMetadataValue,
    tenant_id: AsciiMetadataValue,
}

fn token_value(token: &Secret) -> Result<AsciiMetadataValue, PubSubError> {
    let mut value = MetadataValue::try_from(token.expose())
        .map_err(|_| PubSubError::Config("the access token is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

impl Interceptor for Auth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = self
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let md = request.metadata_mut();
        md.insert("accesstoken", token);
        md.insert("instanceurl", self.instance_url.clone());
        md.insert("tenantid", self.tenant_id.clone());
        Ok(request)
    }
}

pub(crate) type Grpc = PubSubClient<InterceptedService<Channel, Auth>>;

/// A Pub/Sub API client; cheap to clone (the channel and the schema cache are shared).
#[derive(Clone, Debug)]
pub struct Client {
    grpc: Grpc,
    auth: Auth,
    schemas: Arc<Mutex<HashMap<String, Arc<EventSchema>>>>,
    pub(crate) config: Arc<PubSubConfig>,
}

impl Client {
    /// A client for `config`. The connection is made on the first call (and remade after a
    /// failure), so this only fails on configuration that cannot work.
    pub fn new(config: PubSubConfig) -> Result<Self, PubSubError> {
        let endpoint = Endpoint::from_shared(config.endpoint.clone())
            .map_err(|e| PubSubError::Config(format!("endpoint: {e}")))?
            .connect_timeout(Duration::from_secs(10))
            .http2_keep_alive_interval(Duration::from_secs(60))
            .keep_alive_while_idle(true);
        let endpoint = if config.endpoint.starts_with("https://") {
            endpoint
                .tls_config(tonic::transport::ClientTlsConfig::new().with_webpki_roots())
                .map_err(|e| PubSubError::Config(format!("tls: {e}")))?
        } else {
            endpoint
        };
        let header = |what: &str, v: &str| {
            AsciiMetadataValue::try_from(v)
                .map_err(|_| PubSubError::Config(format!("{what} is not a valid header value")))
        };
        let auth = Auth {
            token: Arc::new(RwLock::new(token_value(&config.access_token)?)),
            instance_url: header("instance_url", &config.instance_url)?,
            tenant_id: header("tenant_id", &config.tenant_id)?,
        };
        let channel = endpoint.connect_lazy();
        let grpc = PubSubClient::with_interceptor(channel, auth.clone())
            .max_decoding_message_size(16 * 1024 * 1024);
        Ok(Client {
            grpc,
            auth,
            schemas: Arc::new(Mutex::new(HashMap::new())),
            config: Arc::new(config),
        })
    }

    /// Replaces the access token for the next calls and reconnections (after a refresh).
    pub fn set_access_token(&self, token: &Secret) -> Result<(), PubSubError> {
        let value = token_value(token)?;
        *self
            .auth
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = value;
        Ok(())
    }

    pub(crate) fn grpc(&self) -> Grpc {
        self.grpc.clone()
    }

    /// GetTopic: the topic's schema id and whether this user may subscribe.
    pub async fn topic(&self, topic_name: &str) -> Result<TopicInfo, PubSubError> {
        let request = TopicRequest {
            topic_name: topic_name.to_owned(),
        };
        Ok(self.grpc().get_topic(request).await?.into_inner())
    }

    /// The schema `schema_id`, from the cache or by one GetSchema call.
    pub async fn schema(&self, schema_id: &str) -> Result<Arc<EventSchema>, PubSubError> {
        if let Some(hit) = self.cached(schema_id) {
            return Ok(hit);
        }
        let request = SchemaRequest {
            schema_id: schema_id.to_owned(),
        };
        let info = self.grpc().get_schema(request).await?.into_inner();
        let parsed = EventSchema::parse(schema_id, &info.schema_json)?;
        self.schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(schema_id.to_owned(), parsed.clone());
        Ok(parsed)
    }

    fn cached(&self, schema_id: &str) -> Option<Arc<EventSchema>> {
        self.schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(schema_id)
            .cloned()
    }

    /// A subscription to `topic_name` (`/data/LeadChangeEvent`) from `start`; nothing is sent
    /// before the first [`Subscription::next`].
    pub fn subscribe(&self, topic_name: &str, start: Start) -> Subscription {
        Subscription::new(self.clone(), topic_name, start)
    }
}
