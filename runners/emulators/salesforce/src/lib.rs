//! A local emulator of the Salesforce REST API, for tests, benchmarks and `crmmap sandbox`.
//!
//! It serves, over real HTTP on 127.0.0.1:
//! - `POST /services/oauth2/token`: password, client credentials, JWT bearer (RS256, checked
//!   against a configured public key) and refresh-token grants;
//! - `/services/data/vNN.N/` (NN ≥ 31; older versions answer 410): `query`/`queryAll` with a
//!   real SOQL subset and paging, sObject rows (CRUD, upsert by external id, conditional
//!   update), describe, global describe, sObject Collections, `limits`;
//! - `Sforce-Limit-Info` on every data response, a daily API allocation (each data request
//!   counts one; 403 `REQUEST_LIMIT_EXCEEDED` once it is used), fault injection (latency, error
//!   rate, queued faults), per-endpoint request counters;
//! - converted Leads that refuse updates (400 `CANNOT_UPDATE_CONVERTED_LEAD`) unless the
//!   "View and Edit Converted Leads" knob is set; JWT `aud` checked as Salesforce does;
//! - Change Data Capture ([`cdc`]): every write becomes a change event in the org's change
//!   log (replay ids, retention, the delivery allocation), as the integration user for REST
//!   calls and as a person for control-surface edits; gap and overflow events can be injected;
//! - a test control surface: the Rust API on [`SalesforceEmulator`], and `/__emulator__/…`.
//!
//! Shapes and codes follow `shared/reference/salesforce-api.md` and `realtime-and-limits.md`;
//! every answer the reference does not settle is listed in this crate's README ("Answers the
//! documentation does not settle").
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use crmmap_emu_salesforce::{EmulatorOptions, start};
//! let emu = start(EmulatorOptions::default()).await?;
//! println!("login_url = {}", emu.base_url());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

pub mod cdc;
mod handlers;
pub mod ids;
mod oauth;
mod records_control;
pub mod schema;
pub mod seed;
pub mod soql;
pub mod store;
pub mod validate;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use handlers::router;
use store::{Ordered, Store};

/// Test-only RSA keys for the JWT bearer flow. They are published in this repository and
/// protect nothing; never use them against a real org.
pub mod test_keys {
    /// PKCS#8 private key the client signs JWT assertions with in tests.
    pub const JWT_PRIVATE_KEY_PEM: &str = include_str!("../keys/jwt-test-private.pem");
    /// The matching public key; the emulator's default JWT key.
    pub const JWT_PUBLIC_KEY_PEM: &str = include_str!("../keys/jwt-test-public.pem");
    /// A different private key, for bad-signature tests.
    pub const OTHER_PRIVATE_KEY_PEM: &str = include_str!("../keys/jwt-other-private.pem");
}

/// The credentials the emulated org accepts.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Consumer key of the connected app (`client_id`, and `iss` of JWT assertions).
    pub client_id: String,
    pub client_secret: String,
    /// The integration user (`username`, and `sub` of JWT assertions).
    pub username: String,
    /// Password with the security token appended, as the password flow sends it.
    pub password: String,
    /// PEM public key that JWT assertions must be signed with; `None` disables the JWT flow.
    pub jwt_public_key_pem: Option<String>,
    /// Experience Cloud site URLs accepted as the `aud` of JWT assertions, besides
    /// `https://login.salesforce.com` and `https://test.salesforce.com` (compared exactly).
    pub jwt_audiences: Vec<String>,
    /// A refresh token issued out of band; `None` disables the refresh-token flow.
    pub refresh_token: Option<String>,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            client_id: "3MVG9emulatorConsumerKey".into(),
            client_secret: "emulator-consumer-secret".into(),
            username: "integration@crmmap.example".into(),
            password: "emulator-passwordSECURITYTOKEN".into(),
            jwt_public_key_pem: Some(test_keys::JWT_PUBLIC_KEY_PEM.into()),
            jwt_audiences: Vec::new(),
            refresh_token: Some("5Aep861emulatorRefreshToken".into()),
        }
    }
}

/// How the emulator starts.
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Load the small default sample (5 Leads, 3 Accounts, 3 Contacts, 3 Opportunities).
    pub seed_sample_data: bool,
    /// Additionally generate this many records per object that satisfy the seed selections
    /// (deterministic for a given `fault_seed`).
    pub generated_records_per_object: usize,
    /// Delay added before answering every request (scaled by `time_scale`).
    pub latency: Duration,
    /// Fraction (0..=1) of data requests answered with a transient fault: 503
    /// `SERVER_UNAVAILABLE`, or for writes 400 `UNABLE_TO_LOCK_ROW`.
    pub error_rate: f64,
    /// Seed of the fault and data generators, so runs repeat exactly.
    pub fault_seed: u64,
    /// Daily API request allocation (`DailyApiRequests.Max`).
    pub daily_api_limit: u64,
    /// Credentials the token endpoint accepts.
    pub credentials: Credentials,
    /// Access tokens stop working this long after they are issued (scaled by `time_scale`);
    /// `None` means never (until [`SalesforceEmulator::expire_all_tokens`]).
    pub token_lifetime: Option<Duration>,
    /// Largest query page the emulator returns (Salesforce: 2000). `Sforce-Query-Options:
    /// batchSize=N` lowers it (clamped to 200..=2000 as in Salesforce) but never raises it.
    pub query_page_size: usize,
    /// Multiplier applied to every emulator-side duration (latency, token lifetime): 1.0 is
    /// real time, 0.01 runs a hundred times faster.
    pub time_scale: f64,
    /// The integration user has the "View and Edit Converted Leads" permission
    /// (`PermissionsAllowViewEditConvertedLeads`): updates of converted Leads are accepted.
    /// Without it (the default) they answer 400 `CANNOT_UPDATE_CONVERTED_LEAD`
    /// (realtime-and-limits.md §7).
    pub edit_converted_leads: bool,
    /// What PATCH and DELETE of a well-formed id that does not exist answer.
    pub missing_id_on_write: MissingIdOnWrite,
}

/// The answer to PATCH or DELETE of a well-formed id that does not exist: both are 404, with
/// `NOT_FOUND` (as GET) or, as a third-party emulator's doc claims, `INVALID_CROSS_REFERENCE_KEY`
/// (salesforce-api.md §4.3: uncertain), so clients can be tested against either reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingIdOnWrite {
    /// 404 `NOT_FOUND`, `The requested resource does not exist`.
    #[default]
    NotFound,
    /// 404 `INVALID_CROSS_REFERENCE_KEY`, `invalid cross reference id`.
    InvalidCrossReferenceKey,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            port: 0,
            seed_sample_data: true,
            generated_records_per_object: 0,
            latency: Duration::ZERO,
            error_rate: 0.0,
            fault_seed: 42,
            daily_api_limit: 15_000,
            credentials: Credentials::default(),
            token_lifetime: None,
            query_page_size: 2000,
            time_scale: 1.0,
            edit_converted_leads: false,
            missing_id_on_write: MissingIdOnWrite::NotFound,
        }
    }
}

/// A fault the emulator can be told to answer the next data requests with.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 503 `SERVER_UNAVAILABLE`.
    ServiceUnavailable,
    /// 500 `UNKNOWN_EXCEPTION`.
    InternalError,
    /// The request is carried out, then answered with 500 `UNKNOWN_EXCEPTION`. The reference
    /// lists the 500 (§4.2, §4.3) but not whether the work was done before it; that it can
    /// be is an assumption, made so that clients never take a 5xx for "not applied".
    InternalErrorAfterApply,
    /// 400 `UNABLE_TO_LOCK_ROW`.
    UnableToLockRow,
    /// 400 `FIELD_CUSTOM_VALIDATION_EXCEPTION`: a validation rule refuses the record (the
    /// message is the rule's own text; reference §4.3).
    ValidationRule,
    /// 403 `REQUEST_LIMIT_EXCEEDED`.
    RequestLimitExceeded,
    /// 401 `INVALID_SESSION_ID`.
    InvalidSession,
    /// Do the work at once but answer after this extra delay (not scaled).
    Delay(Duration),
}

/// The kinds of request the emulator counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointKind {
    Token,
    Versions,
    Resources,
    Query,
    QueryMore,
    QueryAll,
    Retrieve,
    Create,
    Update,
    Upsert,
    Delete,
    Describe,
    DescribeGlobal,
    CollectionsCreate,
    CollectionsUpdate,
    CollectionsUpsert,
    CollectionsDelete,
    Limits,
    Control,
    Other,
}

/// A snapshot of the request counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    pub by_kind: BTreeMap<EndpointKind, u64>,
    /// Every request received, control requests included.
    pub total: u64,
    /// Data requests that consumed API allocation.
    pub api_calls: u64,
    /// Requests answered with an injected fault.
    pub faults: u64,
}

impl Counters {
    pub fn get(&self, kind: EndpointKind) -> u64 {
        self.by_kind.get(&kind).copied().unwrap_or(0)
    }

    /// All sObject Collections requests.
    pub fn collections(&self) -> u64 {
        self.get(EndpointKind::CollectionsCreate)
            + self.get(EndpointKind::CollectionsUpdate)
            + self.get(EndpointKind::CollectionsUpsert)
            + self.get(EndpointKind::CollectionsDelete)
    }

    /// Query requests, first pages and follow-ups.
    pub fn queries(&self) -> u64 {
        self.get(EndpointKind::Query)
            + self.get(EndpointKind::QueryAll)
            + self.get(EndpointKind::QueryMore)
    }
}

/// One logged request (the last 1000 are kept).
#[derive(Clone, Debug)]
pub struct RequestLog {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub kind: EndpointKind,
    /// `Sforce-Call-Options` header.
    pub call_options: Option<String>,
    /// `Sforce-Query-Options` header.
    pub query_options: Option<String>,
    /// The response status.
    pub status: u16,
}

pub(crate) struct Cursor {
    records: Arc<Vec<Ordered>>,
    page_size: usize,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) tokens: HashMap<String, Instant>,
    pub(crate) cursors: HashMap<String, Cursor>,
    cursor_order: VecDeque<String>,
    next_cursor: u64,
    pub(crate) credentials: Credentials,
    refresh_revoked: bool,
    token_lifetime: Option<Duration>,
    latency: Duration,
    error_rate: f64,
    rng: StdRng,
    faults: VecDeque<Fault>,
    daily_api_limit: u64,
    api_usage: u64,
    counters: Counters,
    log: VecDeque<RequestLog>,
    pub(crate) query_page_size: usize,
    time_scale: f64,
    pub(crate) edit_converted_leads: bool,
    pub(crate) missing_id_on_write: MissingIdOnWrite,
    pub(crate) change_log: cdc::ChangeLog,
    pub(crate) relay: Option<cdc::EventRelay>,
}

/// The emulated org and its knobs; cheap to clone (shared state). This is the test control
/// surface: tests insert and read records, count requests and inject faults through it.
#[derive(Clone)]
pub struct SalesforceEmulator {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for SalesforceEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceEmulator").finish_non_exhaustive()
    }
}

pub(crate) fn now() -> OffsetDateTime {
    // Millisecond precision, as Salesforce stores datetimes.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

impl SalesforceEmulator {
    /// Builds the org described by `opts` (sample and generated data included).
    pub fn new(opts: &EmulatorOptions) -> Self {
        let mut store = Store::new(schema::Schema::sample());
        if opts.seed_sample_data {
            seed::load_sample(&mut store);
        }
        if opts.generated_records_per_object > 0 {
            seed::generate(
                &mut store,
                opts.generated_records_per_object,
                opts.fault_seed,
            );
        }
        // The org's starting data is not a change.
        store.journal.clear();
        let change_log =
            cdc::ChangeLog::new(store.schema.objects.iter().map(cdc::EntitySchema::of));
        let inner = Inner {
            store,
            tokens: HashMap::new(),
            cursors: HashMap::new(),
            cursor_order: VecDeque::new(),
            next_cursor: 1,
            credentials: opts.credentials.clone(),
            refresh_revoked: false,
            token_lifetime: opts.token_lifetime,
            latency: opts.latency,
            error_rate: opts.error_rate.clamp(0.0, 1.0),
            rng: StdRng::seed_from_u64(opts.fault_seed),
            faults: VecDeque::new(),
            daily_api_limit: opts.daily_api_limit,
            api_usage: 0,
            counters: Counters::default(),
            log: VecDeque::new(),
            query_page_size: opts.query_page_size.max(1),
            time_scale: if opts.time_scale > 0.0 {
                opts.time_scale
            } else {
                1.0
            },
            edit_converted_leads: opts.edit_converted_leads,
            missing_id_on_write: opts.missing_id_on_write,
            change_log,
            relay: None,
        };
        SalesforceEmulator {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    pub(crate) fn lock(&self) -> cdc::OrgGuard<'_> {
        cdc::OrgGuard(
            self.inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    // ---- records ----

    /// Inserts a record as-is (no validation; system fields are filled in unless given, so a
    /// test may set `CreatedDate`, `LastModifiedDate`, `IsDeleted` or read-only fields).
    /// Returns the new 18-char id, or `None` for an unknown object.
    pub fn insert_record(&self, object: &str, fields: Value) -> Option<String> {
        let map = match fields {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.lock().store.insert_raw(object, map, now())
    }

    /// A record's stored fields (deleted records included), by 15- or 18-char id.
    pub fn record(&self, id: &str) -> Option<Map<String, Value>> {
        self.lock().store.get(id).map(|r| r.fields.clone())
    }

    /// Every stored record of `object` (deleted ones included), in creation order.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        let g = self.lock();
        let name = g
            .store
            .schema
            .object(object)
            .map(|o| o.name.clone())
            .unwrap_or_default();
        g.store.rows(&name).map(|r| r.fields.clone()).collect()
    }

    /// Changes stored fields without validation and bumps `LastModifiedDate`, as a person
    /// editing the record (`LastModifiedById` and the change event's `commitUser` are the
    /// person user unless `fields` names another `LastModifiedById`).
    pub fn update_record(&self, id: &str, fields: Value) -> bool {
        let mut g = self.lock();
        if g.store.get(id).is_none() {
            return false;
        }
        let mut map = match fields {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        map.entry("LastModifiedById")
            .or_insert_with(|| Value::String(cdc::person_user_id()));
        g.store.apply_update(id, map, now());
        true
    }

    /// Sets a record's `LastModifiedDate` and `SystemModstamp`, e.g. to test
    /// `If-Unmodified-Since`.
    pub fn set_last_modified(&self, id: &str, at: OffsetDateTime) -> bool {
        let mut g = self.lock();
        let Some(row) = g.store.get_mut(id) else {
            return false;
        };
        let stamp = Value::String(store::format_datetime(at));
        row.fields.insert("LastModifiedDate".into(), stamp.clone());
        row.fields.insert("SystemModstamp".into(), stamp);
        row.last_modified = at;
        true
    }

    /// Marks a Lead converted, as `convertLead()` would: `IsConverted = true`, the given
    /// `ConvertedAccountId` and `ConvertedContactId` (when given), `LastModifiedDate` bumped.
    /// Returns false when `id` is not a live Lead.
    pub fn convert_lead(
        &self,
        id: &str,
        account_id: Option<&str>,
        contact_id: Option<&str>,
    ) -> bool {
        let mut g = self.lock();
        if g.store
            .get(id)
            .is_none_or(|r| r.deleted || r.object != "Lead")
        {
            return false;
        }
        let mut changes = Map::new();
        changes.insert("IsConverted".into(), Value::Bool(true));
        if let Some(a) = account_id {
            changes.insert("ConvertedAccountId".into(), Value::String(a.into()));
        }
        if let Some(c) = contact_id {
            changes.insert("ConvertedContactId".into(), Value::String(c.into()));
        }
        changes.insert(
            "LastModifiedById".into(),
            Value::String(cdc::person_user_id()),
        );
        g.store.apply_update(id, changes, now());
        true
    }

    /// Grants or withdraws the integration user's "View and Edit Converted Leads" permission
    /// (see [`EmulatorOptions::edit_converted_leads`]).
    pub fn set_edit_converted_leads(&self, granted: bool) {
        self.lock().edit_converted_leads = granted;
    }

    /// Changes what PATCH and DELETE of a missing id answer.
    pub fn set_missing_id_on_write(&self, answer: MissingIdOnWrite) {
        self.lock().missing_id_on_write = answer;
    }

    /// Soft-deletes a record (it stays visible to `queryAll`), as a person.
    pub fn delete_record(&self, id: &str) -> bool {
        self.lock().store.soft_delete(id, now())
    }

    /// Restores a soft-deleted record from the recycle bin, as a person. False when `id` is
    /// not a deleted record.
    pub fn undelete_record(&self, id: &str) -> bool {
        self.lock()
            .store
            .undelete(id, &cdc::person_user_id(), now())
    }

    /// The org's describe metadata.
    pub fn schema(&self) -> schema::Schema {
        self.lock().store.schema.clone()
    }

    // ---- auth ----

    /// Invalidates every access token issued so far (the next data call gets 401
    /// `INVALID_SESSION_ID`).
    pub fn expire_all_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Makes the configured refresh token fail with `invalid_grant`.
    pub fn revoke_refresh_token(&self) {
        self.lock().refresh_revoked = true;
    }

    pub(crate) fn refresh_revoked(&self) -> bool {
        self.lock().refresh_revoked
    }

    /// Changes how long new and existing tokens live (`None`: forever).
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.lock().token_lifetime = lifetime;
    }

    /// Number of access tokens currently valid.
    pub fn active_tokens(&self) -> usize {
        let g = self.lock();
        g.tokens.keys().filter(|t| token_alive(&g, t)).count()
    }

    // ---- faults ----

    /// Sets the delay added before every answer (scaled by the time scale).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Sets the fraction of data requests answered with a random transient fault.
    pub fn set_error_rate(&self, rate: f64) {
        self.lock().error_rate = rate.clamp(0.0, 1.0);
    }

    /// Queues faults: each of the next data requests (token requests excluded) takes one;
    /// [`Fault::ValidationRule`] is taken by the next write only.
    pub fn inject_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Drops queued faults and sets the error rate to 0.
    pub fn clear_faults(&self) {
        let mut g = self.lock();
        g.faults.clear();
        g.error_rate = 0.0;
    }

    // ---- limits ----

    pub fn set_daily_api_limit(&self, max: u64) {
        self.lock().daily_api_limit = max;
    }

    /// Sets the API calls used so far today.
    pub fn set_api_usage(&self, used: u64) {
        self.lock().api_usage = used;
    }

    pub fn api_usage(&self) -> u64 {
        self.lock().api_usage
    }

    /// Changes the largest query page.
    pub fn set_query_page_size(&self, size: usize) {
        self.lock().query_page_size = size.max(1);
    }

    // ---- counters ----

    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    pub fn reset_counters(&self) {
        let mut g = self.lock();
        g.counters = Counters::default();
        g.log.clear();
    }

    /// The last requests received (up to 1000), oldest first.
    pub fn request_log(&self) -> Vec<RequestLog> {
        self.lock().log.iter().cloned().collect()
    }

    pub(crate) fn record_request(&self, entry: RequestLog) {
        let mut g = self.lock();
        if g.log.len() >= 1000 {
            g.log.pop_front();
        }
        g.log.push_back(entry);
    }

    pub(crate) fn count(&self, kind: EndpointKind) {
        let mut g = self.lock();
        *g.counters.by_kind.entry(kind).or_insert(0) += 1;
        g.counters.total += 1;
    }

    pub(crate) fn latency(&self) -> Duration {
        let g = self.lock();
        g.latency.mul_f64(g.time_scale)
    }

    /// Checks the bearer token of a data request.
    pub(crate) fn token_valid(&self, token: &str) -> bool {
        let g = self.lock();
        token_alive(&g, token)
    }

    pub(crate) fn issue_token(&self, token: String) {
        self.lock().tokens.insert(token, Instant::now());
    }

    /// Takes one unit of API allocation; `Err((used, max))` when the allocation is spent.
    pub(crate) fn consume_api_call(&self) -> Result<(u64, u64), (u64, u64)> {
        let mut g = self.lock();
        if g.api_usage >= g.daily_api_limit {
            return Err((g.api_usage, g.daily_api_limit));
        }
        g.api_usage += 1;
        g.counters.api_calls += 1;
        Ok((g.api_usage, g.daily_api_limit))
    }

    pub(crate) fn limit_info(&self) -> (u64, u64) {
        let g = self.lock();
        (g.api_usage, g.daily_api_limit)
    }

    /// The fault for the next data request, if any: the queue first, then the error rate.
    pub(crate) fn next_fault(&self, is_write: bool) -> Option<Fault> {
        let mut g = self.lock();
        // A validation rule refuses writes only: a read leaves it queued for the next write.
        let for_writes_only = matches!(g.faults.front(), Some(Fault::ValidationRule));
        let fault = if for_writes_only && !is_write {
            None
        } else if let Some(f) = g.faults.pop_front() {
            Some(f)
        } else if g.error_rate > 0.0 && {
            let rate = g.error_rate;
            g.rng.gen_bool(rate)
        } {
            let lock = is_write && g.rng.gen_bool(0.5);
            Some(if lock {
                Fault::UnableToLockRow
            } else {
                Fault::ServiceUnavailable
            })
        } else {
            None
        };
        if fault
            .as_ref()
            .is_some_and(|f| !matches!(f, Fault::Delay(_)))
        {
            g.counters.faults += 1;
        }
        fault
    }

    /// Stores a result set for paging; returns its locator.
    pub(crate) fn store_cursor(&self, records: Arc<Vec<Ordered>>, page_size: usize) -> String {
        let mut g = self.lock();
        let n = g.next_cursor;
        g.next_cursor += 1;
        let locator = ids::make_id("01g", "5g", n);
        g.cursors
            .insert(locator.clone(), Cursor { records, page_size });
        g.cursor_order.push_back(locator.clone());
        while g.cursor_order.len() > 500 {
            if let Some(old) = g.cursor_order.pop_front() {
                g.cursors.remove(&old);
            }
        }
        locator
    }

    pub(crate) fn cursor(&self, locator: &str) -> Option<(Arc<Vec<Ordered>>, usize)> {
        let g = self.lock();
        g.cursors
            .get(locator)
            .map(|c| (c.records.clone(), c.page_size))
    }
}

fn token_alive(g: &Inner, token: &str) -> bool {
    match g.tokens.get(token) {
        None => false,
        Some(issued) => match g.token_lifetime {
            None => true,
            Some(life) => issued.elapsed() < life.mul_f64(g.time_scale),
        },
    }
}

/// A running emulator: its address, its state, and a way to stop it.
pub struct RunningEmulator {
    addr: SocketAddr,
    state: SalesforceEmulator,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the login URL and the instance URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The org state and control knobs.
    pub fn state(&self) -> &SalesforceEmulator {
        &self.state
    }

    /// Stops serving (and relaying events) and waits for the server task to end.
    pub async fn shutdown(mut self) {
        self.state.stop_event_relay();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                // Clients holding keep-alive connections can delay a graceful stop.
                abort.abort();
            }
        }
    }
}

impl std::ops::Deref for RunningEmulator {
    type Target = SalesforceEmulator;
    fn deref(&self) -> &SalesforceEmulator {
        &self.state
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.state.stop_event_relay();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds 127.0.0.1 on `opts.port` and serves the emulator in a tokio task.
pub async fn start(opts: EmulatorOptions) -> std::io::Result<RunningEmulator> {
    let state = SalesforceEmulator::new(&opts);
    start_with_state(state, opts.port).await
}

/// Serves an existing org state (e.g. one a test prepared) on 127.0.0.1:`port`.
pub async fn start_with_state(
    state: SalesforceEmulator,
    port: u16,
) -> std::io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let app = router(state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "salesforce emulator stopped with an error");
        }
    });
    Ok(RunningEmulator {
        addr,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}
