//! Routes, the request gate (auth, limits, faults, counters) and the REST handlers.

#![expect(
    clippy::result_large_err,
    reason = "handlers return axum Responses as early errors; one per request, never stored"
)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::schema::ObjectDef;
use crate::soql::{self, eval};
use crate::store::Ordered;
use crate::validate::{self, ErrorItem, WriteKind};
use crate::{EndpointKind, Fault, RequestLog, SalesforceEmulator, ids, now, oauth};

/// Lowest and highest API versions served. Versions 21–30 were retired (410); the newest
/// release in the reference is 68.0 (preview).
const MIN_VERSION: u32 = 31;
const MAX_VERSION: u32 = 68;

/// The emulator's routes over `state`.
pub fn router(state: SalesforceEmulator) -> Router {
    let data = Router::new()
        .route("/", get(resources))
        .route("/limits", get(limits))
        .route("/limits/", get(limits))
        .route("/query", get(query))
        .route("/query/", get(query))
        .route("/query/{locator}", get(query_more))
        .route("/queryAll", get(query_all))
        .route("/queryAll/", get(query_all))
        .route("/queryAll/{locator}", get(query_more))
        .route("/sobjects", get(describe_global))
        .route("/sobjects/", get(describe_global))
        .route("/sobjects/{object}", get(sobject_info).post(create))
        .route("/sobjects/{object}/", get(sobject_info).post(create))
        .route("/sobjects/{object}/describe", get(describe))
        .route("/sobjects/{object}/describe/", get(describe))
        .route(
            "/sobjects/{object}/{id}",
            get(retrieve).patch(update).delete(delete_one),
        )
        .route(
            "/sobjects/{object}/{field}/{value}",
            get(retrieve_by_external_id).patch(upsert),
        )
        .route(
            "/composite/sobjects",
            post(collections_create)
                .patch(collections_update)
                .delete(collections_delete),
        )
        .route(
            "/composite/sobjects/",
            post(collections_create)
                .patch(collections_update)
                .delete(collections_delete),
        )
        .route(
            "/composite/sobjects/{object}/{field}",
            axum::routing::patch(collections_upsert),
        );
    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route("/services/data", get(versions))
        .route("/services/data/", get(versions))
        .nest("/services/data/{version}", data)
        .route("/__emulator__/counters", get(control_counters))
        .route("/__emulator__/expire-tokens", post(control_expire_tokens))
        .route("/__emulator__/faults", post(control_faults))
        .route("/__emulator__/limits", post(control_limits))
        .route(
            "/__emulator__/converted-leads",
            post(control_converted_leads),
        )
        .merge(crate::records_control::routes())
        .merge(crate::cdc::control::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

// ---------------------------------------------------------------- responses

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

/// A REST error array: `[{"message","errorCode"[,"fields"]}]`.
fn errors(status: StatusCode, items: &[ErrorItem]) -> Response {
    json_response(
        status,
        &items.iter().map(ErrorItem::rest_json).collect::<Vec<_>>(),
    )
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    errors(status, &[ErrorItem::new(code, message, vec![])])
}

fn not_found_resource() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

async fn not_found() -> Response {
    not_found_resource()
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            "The HTTP entity body is required, but this request has no entity body.",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", format!("{e}")))
}

fn version_of(params: &HashMap<String, String>) -> String {
    params
        .get("version")
        .map(|v| v.trim_start_matches('v').to_string())
        .unwrap_or_default()
}

fn major(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------- gate

fn classify(method: &Method, path: &str) -> (EndpointKind, Option<String>) {
    if path == "/services/oauth2/token" {
        return (EndpointKind::Token, None);
    }
    if path == "/services/data" || path == "/services/data/" {
        return (EndpointKind::Versions, None);
    }
    if path.starts_with("/__emulator__/") {
        return (EndpointKind::Control, None);
    }
    let Some(rest) = path.strip_prefix("/services/data/") else {
        return (EndpointKind::Other, None);
    };
    let (version, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let segs: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
    use EndpointKind as K;
    let kind = match (segs.as_slice(), method.as_str()) {
        ([], _) => K::Resources,
        (["query"], _) => K::Query,
        (["queryAll"], _) => K::QueryAll,
        (["query" | "queryAll", _], _) => K::QueryMore,
        (["limits"], _) => K::Limits,
        (["sobjects"], _) => K::DescribeGlobal,
        (["sobjects", _, "describe"], _) => K::Describe,
        (["sobjects", _], "POST") => K::Create,
        (["sobjects", _, _], "GET") | (["sobjects", _, _, _], "GET") => K::Retrieve,
        (["sobjects", _, _], "PATCH") => K::Update,
        (["sobjects", _, _], "DELETE") => K::Delete,
        (["sobjects", _, _, _], "PATCH") => K::Upsert,
        (["composite", "sobjects"], "POST") => K::CollectionsCreate,
        (["composite", "sobjects"], "PATCH") => K::CollectionsUpdate,
        (["composite", "sobjects"], "DELETE") => K::CollectionsDelete,
        (["composite", "sobjects", _, _], "PATCH") => K::CollectionsUpsert,
        _ => K::Other,
    };
    (kind, Some(version.to_string()))
}

async fn gate(State(emu): State<SalesforceEmulator>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let (call_options, query_options) = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (
            header("sforce-call-options"),
            header("sforce-query-options"),
        )
    };
    let (kind, version) = classify(&method, &path);
    emu.count(kind);
    // Like Salesforce, finish the work even when the client hangs up (e.g. on its timeout):
    // the request runs in its own task, which outlives this connection's future.
    let task_emu = emu.clone();
    let task = tokio::spawn(async move {
        let latency = task_emu.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let response = match version {
            Some(v) => {
                let work = data_gate(&task_emu, &v, &method, req, next);
                crate::cdc::as_api_request(&v, call_options.as_deref(), work).await
            }
            None => next.run(req).await,
        };
        task_emu.record_request(RequestLog {
            method: method.to_string(),
            path,
            query,
            kind,
            call_options,
            query_options,
            status: response.status().as_u16(),
        });
        response
    });
    task.await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn data_gate(
    emu: &SalesforceEmulator,
    version: &str,
    method: &Method,
    req: Request,
    next: Next,
) -> Response {
    let valid_format = version.strip_prefix('v').is_some_and(|v| {
        let mut parts = v.split('.');
        let (a, b, c) = (parts.next(), parts.next(), parts.next());
        a.is_some_and(|a| !a.is_empty() && a.bytes().all(|x| x.is_ascii_digit()))
            && b == Some("0")
            && c.is_none()
    });
    if !valid_format {
        return not_found_resource();
    }
    let m = major(version.trim_start_matches('v'));
    if m < MIN_VERSION {
        // Salesforce answers retired versions with 410 GONE; the body text is not in the
        // reference, so this one is descriptive.
        return error(
            StatusCode::GONE,
            "API_VERSION_RETIRED",
            format!(
                "Version {}.0 of the API is retired. Use version {MIN_VERSION}.0 or later.",
                m
            ),
        );
    }
    if m > MAX_VERSION {
        return not_found_resource();
    }
    let authorized = {
        let token = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("OAuth "))
            })
            .map(str::trim)
            .unwrap_or("");
        emu.token_valid(token)
    };
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        );
    }
    // Every data request with a valid token counts one call and carries `Sforce-Limit-Info`
    // (reference §5; which requests count, and no overshoot past the limit, are ASSUMPTIONS
    // listed in the README).
    let mut response = match emu.consume_api_call() {
        Err(_) => error(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ),
        Ok(_) => {
            let is_write = matches!(
                *method,
                Method::POST | Method::PATCH | Method::DELETE | Method::PUT
            );
            match emu.next_fault(is_write) {
                Some(Fault::InternalErrorAfterApply) => {
                    let _applied = next.run(req).await;
                    fault_response(&Fault::InternalError)
                }
                Some(Fault::Delay(d)) => {
                    // The work is done at once; only the answer is late.
                    let r = next.run(req).await;
                    tokio::time::sleep(d).await;
                    r
                }
                Some(fault) => fault_response(&fault),
                None => next.run(req).await,
            }
        }
    };
    let (used, max) = emu.limit_info();
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        response.headers_mut().insert("sforce-limit-info", v);
    }
    response
}

fn fault_response(f: &Fault) -> Response {
    match f {
        Fault::ServiceUnavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Server Unavailable",
        ),
        Fault::InternalError | Fault::InternalErrorAfterApply => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-123456789)",
        ),
        Fault::UnableToLockRow => error(
            StatusCode::BAD_REQUEST,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records: 0035g00000EmUlAAAV",
        ),
        Fault::ValidationRule => error(
            StatusCode::BAD_REQUEST,
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "Close Date must not be in the past",
        ),
        Fault::RequestLimitExceeded => error(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ),
        Fault::InvalidSession => error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        ),
        Fault::Delay(_) => StatusCode::OK.into_response(),
    }
}

// ---------------------------------------------------------------- versions, resources, limits

async fn versions() -> Response {
    let names = [
        (58, "Summer '23"),
        (59, "Winter '24"),
        (60, "Spring '24"),
        (61, "Summer '24"),
        (62, "Winter '25"),
        (63, "Spring '25"),
        (64, "Summer '25"),
        (65, "Winter '26"),
        (66, "Spring '26"),
        (67, "Summer '26"),
        (68, "Winter '27"),
    ];
    let list: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| {
            let label = names.iter().find(|(n, _)| *n == v).map_or(format!("v{v}"), |(_, l)| l.to_string());
            json!({"label": label, "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")})
        })
        .collect();
    json_response(StatusCode::OK, &list)
}

async fn resources(Path(params): Path<HashMap<String, String>>) -> Response {
    let v = version_of(&params);
    let base = format!("/services/data/v{v}");
    json_response(
        StatusCode::OK,
        &json!({
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "limits": format!("{base}/limits"),
            "composite": format!("{base}/composite"),
        }),
    )
}

async fn limits(State(emu): State<SalesforceEmulator>) -> Response {
    let (used, max) = emu.limit_info();
    let fixed = |m: u64| json!({"Max": m, "Remaining": m});
    json_response(
        StatusCode::OK,
        &json!({
            "DailyApiRequests": {"Max": max, "Remaining": max.saturating_sub(used)},
            "DailyBulkApiBatches": fixed(15000),
            "DailyBulkV2QueryJobs": fixed(10000),
            "DailyBulkV2QueryFileStorageMB": fixed(976562),
            "DailyStreamingApiEvents": fixed(10000),
            "DataStorageMB": fixed(5),
            "FileStorageMB": fixed(20),
        }),
    )
}

// ---------------------------------------------------------------- query

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryPage<'a> {
    total_size: usize,
    done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_records_url: Option<String>,
    records: &'a [Ordered],
}

fn batch_size(headers: &HeaderMap) -> Option<usize> {
    let v = headers.get("sforce-query-options")?.to_str().ok()?;
    v.split([',', ';']).find_map(|part| {
        let (k, n) = part.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("batchSize") {
            n.trim().parse::<usize>().ok()
        } else {
            None
        }
    })
}

fn page_response(
    emu: &SalesforceEmulator,
    version: &str,
    records: Arc<Vec<Ordered>>,
    offset: usize,
    page: usize,
    locator: Option<&str>,
) -> Response {
    let total = records.len();
    let end = (offset + page).min(total);
    let done = end >= total;
    let next_records_url = (!done).then(|| {
        let loc = locator.map_or_else(|| emu.store_cursor(records.clone(), page), str::to_string);
        format!("/services/data/v{version}/query/{loc}-{end}")
    });
    let slice = &records[offset.min(total)..end];
    json_response(
        StatusCode::OK,
        &QueryPage {
            total_size: total,
            done,
            next_records_url,
            records: slice,
        },
    )
}

fn run_query(
    emu: &SalesforceEmulator,
    params: &HashMap<String, String>,
    q: Option<&String>,
    headers: &HeaderMap,
    all_rows: bool,
) -> Response {
    let version = version_of(params);
    let Some(q) = q.filter(|q| !q.trim().is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        );
    };
    let parsed = match soql::parse(q) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.code, e.message(q)),
    };
    let (result, max_page) = {
        let g = emu.lock();
        (
            eval::execute(&g.store, &parsed, all_rows, &version),
            g.query_page_size,
        )
    };
    let records = match result {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.code, e.message(q)),
    };
    let page = batch_size(headers)
        .map_or(2000, |b| b.clamp(200, 2000))
        .min(max_page);
    page_response(emu, &version, Arc::new(records), 0, page, None)
}

async fn query(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    Query(qs): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    run_query(&emu, &params, qs.get("q"), &headers, false)
}

async fn query_all(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    Query(qs): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    run_query(&emu, &params, qs.get("q"), &headers, true)
}

async fn query_more(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let version = version_of(&params);
    let raw = params.get("locator").cloned().unwrap_or_default();
    let found = raw
        .rsplit_once('-')
        .and_then(|(loc, off)| off.parse::<usize>().ok().map(|o| (loc.to_string(), o)))
        .and_then(|(loc, off)| emu.cursor(&loc).map(|(recs, page)| (loc, off, recs, page)));
    match found {
        Some((loc, offset, records, page)) if offset <= records.len() => {
            page_response(&emu, &version, records, offset, page, Some(&loc))
        }
        // The reference gives 404 for an unknown or expired locator (3rd-party source).
        _ => error(
            StatusCode::NOT_FOUND,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        ),
    }
}

// ---------------------------------------------------------------- describe

fn object_def(emu: &SalesforceEmulator, name: &str) -> Option<ObjectDef> {
    emu.lock().store.schema.object(name).cloned()
}

async fn describe_global(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let v = version_of(&params);
    let body = emu.lock().store.schema.describe_global(&v);
    json_response(StatusCode::OK, &body)
}

async fn describe(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let v = version_of(&params);
    match object_def(&emu, params.get("object").map_or("", String::as_str)) {
        Some(def) => json_response(StatusCode::OK, &def.describe(&v)),
        None => not_found_resource(),
    }
}

async fn sobject_info(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let v = version_of(&params);
    match object_def(&emu, params.get("object").map_or("", String::as_str)) {
        Some(def) => json_response(
            StatusCode::OK,
            &json!({"objectDescribe": def.global_entry(&v), "recentItems": []}),
        ),
        None => not_found_resource(),
    }
}

// ---------------------------------------------------------------- sObject rows

fn malformed_id(def: &ObjectDef, id: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "MALFORMED_ID",
        format!("{} ID: id value of incorrect type: {id}", def.label),
    )
}

/// Resolves `id` on `def`: Ok(18-char id of a live record), or the error response.
fn live_id(emu: &SalesforceEmulator, def: &ObjectDef, id: &str) -> Result<String, Response> {
    let Some(id18) = ids::normalize(id).filter(|i| i.starts_with(&def.key_prefix)) else {
        return Err(malformed_id(def, id));
    };
    let g = emu.lock();
    match g.store.get(&id18) {
        None => Err(not_found_resource()),
        Some(r) if r.deleted => Err(error(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        )),
        Some(_) => Ok(id18),
    }
}

/// [`live_id`] for PATCH and DELETE: a well-formed id that does not exist answers 404
/// `NOT_FOUND`, or 404 `INVALID_CROSS_REFERENCE_KEY` when the knob asks for the other reading
/// (salesforce-api.md §4.3 marks which one Salesforce sends as uncertain).
fn live_id_for_write(
    emu: &SalesforceEmulator,
    def: &ObjectDef,
    id: &str,
) -> Result<String, Response> {
    let missing = ids::normalize(id)
        .filter(|i| i.starts_with(&def.key_prefix))
        .is_some_and(|i| emu.lock().store.get(&i).is_none());
    if missing
        && emu.lock().missing_id_on_write == crate::MissingIdOnWrite::InvalidCrossReferenceKey
    {
        return Err(error(
            StatusCode::NOT_FOUND,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        ));
    }
    live_id(emu, def, id)
}

fn save_result(id: &str, created: Option<bool>) -> Value {
    let mut v = json!({"id": id, "success": true, "errors": []});
    if let (Some(c), Value::Object(m)) = (created, &mut v) {
        m.insert("created".into(), Value::Bool(c));
    }
    v
}

async fn create(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let v = version_of(&params);
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    let body = match parse_body(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a non-object value",
            );
        }
        Err(r) => return r,
    };
    let mut g = emu.lock();
    let changes = match validate::validate(&g.store.schema, &def, &body, WriteKind::Create, None) {
        Ok(c) => c,
        Err(errs) => return errors(StatusCode::BAD_REQUEST, &errs),
    };
    let Some(id) = g.store.insert_raw(&def.name, changes, now()) else {
        return not_found_resource();
    };
    drop(g);
    let mut r = json_response(StatusCode::CREATED, &save_result(&id, None));
    if let Ok(loc) =
        HeaderValue::from_str(&format!("/services/data/v{v}/sobjects/{}/{id}", def.name))
    {
        r.headers_mut().insert(http::header::LOCATION, loc);
    }
    r
}

fn selected_fields(
    def: &ObjectDef,
    qs: &HashMap<String, String>,
) -> Result<Option<Vec<String>>, Response> {
    let Some(list) = qs.get("fields") else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for f in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match def.field(f) {
            Some(fd) => out.push(fd.name.clone()),
            None => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_FIELD",
                    format!("No such column '{f}' on sobject of type {}", def.name),
                ));
            }
        }
    }
    Ok(Some(out))
}

async fn retrieve(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    Query(qs): Query<HashMap<String, String>>,
) -> Response {
    let v = version_of(&params);
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    let id = match live_id(&emu, &def, params.get("id").map_or("", String::as_str)) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let fields = match selected_fields(&def, &qs) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let g = emu.lock();
    match g.store.get(&id) {
        Some(row) => json_response(StatusCode::OK, &g.store.render(row, &v, fields.as_deref())),
        None => not_found_resource(),
    }
}

/// The refusal of an update of a converted Lead, unless the integration user has "View and
/// Edit Converted Leads": `CANNOT_UPDATE_CONVERTED_LEAD`, `cannot reference converted lead`
/// (realtime-and-limits.md §7; HTTP 400 with `"fields":[]` on a single update).
fn converted_lead_refusal(
    edit_converted_leads: bool,
    row: Option<&crate::store::Row>,
) -> Option<ErrorItem> {
    let row = row?;
    let converted = row.object == "Lead" && row.get("IsConverted") == &Value::Bool(true);
    (converted && !edit_converted_leads).then(|| {
        ErrorItem::new(
            "CANNOT_UPDATE_CONVERTED_LEAD",
            "cannot reference converted lead",
            vec![],
        )
    })
}

/// Parses an HTTP date (IMF-fixdate `EEE, dd MMM yyyy HH:mm:ss GMT`, and the obsolete RFC 850
/// and asctime forms HTTP recipients accept).
fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    httpdate::parse_http_date(s.trim())
        .ok()
        .map(OffsetDateTime::from)
}

/// A `Date` header for the current time.
fn date_header() -> Option<HeaderValue> {
    HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now())).ok()
}

async fn update(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    let id = match live_id_for_write(&emu, &def, params.get("id").map_or("", String::as_str)) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let body = match parse_body(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a non-object value",
            );
        }
        Err(r) => return r,
    };
    let mut g = emu.lock();
    if let Some(h) = headers.get(http::header::IF_UNMODIFIED_SINCE) {
        // Reference §6: a bad header value is a 400, a changed record a 412; the codes and
        // messages of both bodies are ASSUMPTIONS (README).
        let Some(since) = h.to_str().ok().and_then(parse_http_date) else {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_HEADER_VALUE",
                "If-Unmodified-Since: invalid date format",
            );
        };
        let modified = g.store.get(&id).map(|r| r.last_modified);
        // Reference §6: the header is compared with the record's last-modified date, at second
        // granularity (HTTP dates have no fraction); 412 when the record changed after it.
        if modified.is_some_and(|m| m.unix_timestamp() > since.unix_timestamp()) {
            return error(
                StatusCode::PRECONDITION_FAILED,
                "PRECONDITION_FAILED",
                "The requested resource has been modified since the If-Unmodified-Since date",
            );
        }
    }
    let existing = g.store.get(&id).cloned();
    if let Some(e) = converted_lead_refusal(g.edit_converted_leads, existing.as_ref()) {
        // The documented body keeps an empty `fields` array.
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!([{"message": e.message, "errorCode": e.code, "fields": []}]),
        );
    }
    match validate::validate(
        &g.store.schema,
        &def,
        &body,
        WriteKind::Update,
        existing.as_ref(),
    ) {
        Ok(changes) => {
            g.store.apply_update(&id, changes, now());
            drop(g);
            // The `Date` is taken after the save, so it is never before the record's new
            // `LastModifiedDate` (at second precision): a client may use it as its next
            // `If-Unmodified-Since` (RFC 9110 §6.6.1: the origin's time of the response).
            let mut r = StatusCode::NO_CONTENT.into_response();
            if let Some(d) = date_header() {
                r.headers_mut().insert(http::header::DATE, d);
            }
            r
        }
        Err(errs) => errors(StatusCode::BAD_REQUEST, &errs),
    }
}

async fn delete_one(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    match live_id_for_write(&emu, &def, params.get("id").map_or("", String::as_str)) {
        Ok(id) => {
            emu.lock().store.soft_delete(&id, now());
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

fn ext_field_not_found(field: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    )
}

/// Live records of `def` whose `field` equals `value` (case-insensitively, like a
/// non-case-sensitive external id).
fn find_by_external_id(
    emu: &SalesforceEmulator,
    def: &ObjectDef,
    field: &str,
    value: &str,
) -> Vec<String> {
    let g = emu.lock();
    if field == "Id" {
        return ids::normalize(value)
            .and_then(|id| {
                g.store
                    .get(&id)
                    .filter(|r| !r.deleted && r.object == def.name)
                    .map(|r| r.id.clone())
            })
            .into_iter()
            .collect();
    }
    g.store
        .rows(&def.name)
        .filter(|r| !r.deleted)
        .filter(|r| match r.get(field) {
            Value::String(s) => s.eq_ignore_ascii_case(value),
            Value::Number(n) => n.to_string() == value,
            _ => false,
        })
        .map(|r| r.id.clone())
        .collect()
}

async fn retrieve_by_external_id(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    Query(qs): Query<HashMap<String, String>>,
) -> Response {
    let v = version_of(&params);
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    let field_name = params.get("field").cloned().unwrap_or_default();
    let Some(field) = def
        .field(&field_name)
        .filter(|f| f.external_id || f.name == "Id")
        .map(|f| f.name.clone())
    else {
        return ext_field_not_found(&field_name);
    };
    let fields = match selected_fields(&def, &qs) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let matches = find_by_external_id(
        &emu,
        &def,
        &field,
        params.get("value").map_or("", String::as_str),
    );
    match matches.as_slice() {
        [] => not_found_resource(),
        [id] => {
            let g = emu.lock();
            match g.store.get(id) {
                Some(row) => {
                    json_response(StatusCode::OK, &g.store.render(row, &v, fields.as_deref()))
                }
                None => not_found_resource(),
            }
        }
        many => multiple_choices(&v, &def, many),
    }
}

fn multiple_choices(version: &str, def: &ObjectDef, ids: &[String]) -> Response {
    let urls: Vec<String> = ids
        .iter()
        .map(|id| format!("/services/data/v{version}/sobjects/{}/{id}", def.name))
        .collect();
    json_response(StatusCode::MULTIPLE_CHOICES, &urls)
}

enum UpsertError {
    Multiple(Vec<String>),
    Errors(StatusCode, Vec<ErrorItem>),
}

/// Upserts one record of `def` by `field` = `value`; returns (id, created).
fn upsert_record(
    emu: &SalesforceEmulator,
    def: &ObjectDef,
    field: &str,
    value: &str,
    body: &Map<String, Value>,
) -> Result<(String, bool), UpsertError> {
    let matches = find_by_external_id(emu, def, field, value);
    let mut g = emu.lock();
    match matches.as_slice() {
        [] => {
            if field == "Id" {
                return Err(UpsertError::Errors(
                    StatusCode::NOT_FOUND,
                    vec![ErrorItem::new(
                        "NOT_FOUND",
                        "The requested resource does not exist",
                        vec![],
                    )],
                ));
            }
            let mut body = body.clone();
            body.retain(|k, _| !k.eq_ignore_ascii_case(field));
            let mut changes =
                validate::validate(&g.store.schema, def, &body, WriteKind::Create, None)
                    .map_err(|e| UpsertError::Errors(StatusCode::BAD_REQUEST, e))?;
            changes.insert(field.to_string(), Value::String(value.to_string()));
            let id = g
                .store
                .insert_raw(&def.name, changes, now())
                .unwrap_or_default();
            Ok((id, true))
        }
        [id] => {
            let mut body = body.clone();
            body.retain(|k, _| !k.eq_ignore_ascii_case(field) && !k.eq_ignore_ascii_case("Id"));
            let existing = g.store.get(id).cloned();
            if let Some(e) = converted_lead_refusal(g.edit_converted_leads, existing.as_ref()) {
                return Err(UpsertError::Errors(StatusCode::BAD_REQUEST, vec![e]));
            }
            let changes = validate::validate(
                &g.store.schema,
                def,
                &body,
                WriteKind::Update,
                existing.as_ref(),
            )
            .map_err(|e| UpsertError::Errors(StatusCode::BAD_REQUEST, e))?;
            g.store.apply_update(id, changes, now());
            Ok((id.clone(), false))
        }
        many => Err(UpsertError::Multiple(many.to_vec())),
    }
}

async fn upsert(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let v = version_of(&params);
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    let field_name = params.get("field").cloned().unwrap_or_default();
    let Some(field) = def
        .field(&field_name)
        .filter(|f| f.external_id || f.name == "Id")
        .map(|f| f.name.clone())
    else {
        return ext_field_not_found(&field_name);
    };
    let body = match parse_body(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a non-object value",
            );
        }
        Err(r) => return r,
    };
    match upsert_record(
        &emu,
        &def,
        &field,
        params.get("value").map_or("", String::as_str),
        &body,
    ) {
        Ok((id, true)) => json_response(StatusCode::CREATED, &save_result(&id, Some(true))),
        // Since v46 an update answers 200 with a body; before, 204.
        Ok((_, false)) if major(&v) < 46 => StatusCode::NO_CONTENT.into_response(),
        Ok((id, false)) => json_response(StatusCode::OK, &save_result(&id, Some(false))),
        Err(UpsertError::Multiple(ids)) => multiple_choices(&v, &def, &ids),
        Err(UpsertError::Errors(status, errs)) => errors(status, &errs),
    }
}

// ---------------------------------------------------------------- sObject Collections

const COLLECTION_LIMIT: usize = 200;

fn too_many() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
}

fn rolled_back() -> ErrorItem {
    ErrorItem::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        vec![],
    )
}

fn failure(id: Option<&str>, errs: &[ErrorItem]) -> Value {
    let mut m = Map::new();
    if let Some(id) = id {
        m.insert("id".into(), Value::String(id.to_string()));
    }
    m.insert("success".into(), Value::Bool(false));
    m.insert(
        "errors".into(),
        Value::Array(errs.iter().map(ErrorItem::record_json).collect()),
    );
    Value::Object(m)
}

struct CollectionBody {
    all_or_none: bool,
    records: Vec<Value>,
}

fn collection_body(body: &Bytes) -> Result<CollectionBody, Response> {
    let v = parse_body(body)?;
    let all_or_none = v.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let records = match v.get("records") {
        Some(Value::Array(a)) => a.clone(),
        _ => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                "The request body must have a records array",
            ));
        }
    };
    if records.len() > COLLECTION_LIMIT {
        return Err(too_many());
    }
    Ok(CollectionBody {
        all_or_none,
        records,
    })
}

fn record_type<'a>(
    emu: &SalesforceEmulator,
    rec: &'a Value,
) -> Result<(ObjectDef, &'a Map<String, Value>), ErrorItem> {
    let Some(map) = rec.as_object() else {
        return Err(ErrorItem::new(
            "JSON_PARSER_ERROR",
            "Each record must be a JSON object",
            vec![],
        ));
    };
    let ty = map
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    let Some(ty) = ty else {
        return Err(ErrorItem::new(
            "INVALID_TYPE",
            "Must send a concrete entity type.",
            vec![],
        ));
    };
    match object_def(emu, ty) {
        Some(def) => Ok((def, map)),
        None => Err(ErrorItem::new(
            "INVALID_TYPE",
            format!("sObject type '{ty}' is not supported."),
            vec![],
        )),
    }
}

enum Planned {
    Create(ObjectDef, Map<String, Value>),
    Update(String, Map<String, Value>),
    Failed(Option<String>, Vec<ErrorItem>),
}

/// Applies planned writes (or rolls all back under allOrNone) and renders the results.
fn finish_collection(emu: &SalesforceEmulator, plans: Vec<Planned>, all_or_none: bool) -> Response {
    let any_failed = plans.iter().any(|p| matches!(p, Planned::Failed(..)));
    let mut out = Vec::with_capacity(plans.len());
    let mut g = emu.lock();
    for plan in plans {
        match plan {
            Planned::Failed(id, errs) => out.push(failure(id.as_deref(), &errs)),
            Planned::Create(..) if all_or_none && any_failed => {
                out.push(failure(None, &[rolled_back()]))
            }
            Planned::Update(id, _) if all_or_none && any_failed => {
                out.push(failure(Some(&id), &[rolled_back()]))
            }
            Planned::Create(def, changes) => {
                let id = g
                    .store
                    .insert_raw(&def.name, changes, now())
                    .unwrap_or_default();
                out.push(save_result(&id, None));
            }
            Planned::Update(id, changes) => {
                g.store.apply_update(&id, changes, now());
                out.push(save_result(&id, None));
            }
        }
    }
    json_response(StatusCode::OK, &out)
}

async fn collections_create(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let body = match collection_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let plans = body
        .records
        .iter()
        .map(|rec| {
            let (def, map) = match record_type(&emu, rec) {
                Ok(x) => x,
                Err(e) => return Planned::Failed(None, vec![e]),
            };
            let g = emu.lock();
            match validate::validate(&g.store.schema, &def, map, WriteKind::Create, None) {
                Ok(changes) => Planned::Create(def, changes),
                Err(errs) => Planned::Failed(None, errs),
            }
        })
        .collect();
    finish_collection(&emu, plans, body.all_or_none)
}

async fn collections_update(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let body = match collection_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let plans = body
        .records
        .iter()
        .map(|rec| {
            let (def, map) = match record_type(&emu, rec) {
                Ok(x) => x,
                Err(e) => return Planned::Failed(None, vec![e]),
            };
            let raw_id = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("id"))
                .and_then(|(_, v)| v.as_str());
            let Some(raw_id) = raw_id else {
                return Planned::Failed(
                    None,
                    vec![ErrorItem::new(
                        "MISSING_ARGUMENT",
                        "Id not specified in an update call",
                        vec![],
                    )],
                );
            };
            let Some(id) = ids::normalize(raw_id).filter(|i| i.starts_with(&def.key_prefix)) else {
                return Planned::Failed(
                    None,
                    vec![ErrorItem::new(
                        "MALFORMED_ID",
                        format!("malformed id {raw_id}"),
                        vec![],
                    )],
                );
            };
            let g = emu.lock();
            let existing = match g.store.get(&id) {
                None => {
                    return Planned::Failed(
                        Some(id),
                        vec![ErrorItem::new(
                            "INVALID_CROSS_REFERENCE_KEY",
                            "invalid cross reference id",
                            vec![],
                        )],
                    );
                }
                Some(r) if r.deleted => {
                    return Planned::Failed(
                        Some(id),
                        vec![ErrorItem::new(
                            "ENTITY_IS_DELETED",
                            "entity is deleted",
                            vec![],
                        )],
                    );
                }
                Some(r) => r.clone(),
            };
            // Per record, with `statusCode` (the collections shape; realtime-and-limits.md §7
            // calls this mapping unconfirmed).
            if let Some(e) = converted_lead_refusal(g.edit_converted_leads, Some(&existing)) {
                return Planned::Failed(Some(id), vec![e]);
            }
            match validate::validate(
                &g.store.schema,
                &def,
                map,
                WriteKind::Update,
                Some(&existing),
            ) {
                Ok(changes) => Planned::Update(id, changes),
                Err(errs) => Planned::Failed(Some(id), errs),
            }
        })
        .collect();
    finish_collection(&emu, plans, body.all_or_none)
}

async fn collections_delete(
    State(emu): State<SalesforceEmulator>,
    Query(qs): Query<HashMap<String, String>>,
) -> Response {
    let ids_param = qs.get("ids").cloned().unwrap_or_default();
    let all_or_none = qs
        .get("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let requested: Vec<&str> = ids_param
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "ids parameter is required",
        );
    }
    if requested.len() > COLLECTION_LIMIT {
        return too_many();
    }
    let mut g = emu.lock();
    let plans: Vec<Result<String, (Option<String>, ErrorItem)>> = requested
        .iter()
        .map(|raw| {
            let Some(id) = ids::normalize(raw) else {
                return Err((
                    None,
                    ErrorItem::new("MALFORMED_ID", format!("malformed id {raw}"), vec![]),
                ));
            };
            match g.store.get(&id) {
                None => Err((
                    Some(id),
                    ErrorItem::new(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        vec![],
                    ),
                )),
                Some(r) if r.deleted => Err((
                    Some(id),
                    ErrorItem::new("ENTITY_IS_DELETED", "entity is deleted", vec![]),
                )),
                Some(_) => Ok(id),
            }
        })
        .collect();
    let any_failed = plans.iter().any(Result::is_err);
    let mut out = Vec::new();
    for p in plans {
        match p {
            Err((id, e)) => out.push(failure(id.as_deref(), &[e])),
            Ok(id) if all_or_none && any_failed => out.push(failure(Some(&id), &[rolled_back()])),
            Ok(id) => {
                g.store.soft_delete(&id, now());
                out.push(save_result(&id, None));
            }
        }
    }
    json_response(StatusCode::OK, &out)
}

async fn collections_upsert(
    State(emu): State<SalesforceEmulator>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(def) = object_def(&emu, params.get("object").map_or("", String::as_str)) else {
        return not_found_resource();
    };
    let field_name = params.get("field").cloned().unwrap_or_default();
    let Some(field) = def
        .field(&field_name)
        .filter(|f| f.external_id)
        .map(|f| f.name.clone())
    else {
        return ext_field_not_found(&field_name);
    };
    let body = match collection_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if body.all_or_none {
        // Validate everything first so that allOrNone can roll back without side effects.
        let g = emu.lock();
        let invalid = body.records.iter().any(|r| {
            r.as_object().is_none_or(|m| {
                m.get(&field).and_then(Value::as_str).is_none()
                    || validate::validate(&g.store.schema, &def, m, WriteKind::Update, None)
                        .is_err()
            })
        });
        drop(g);
        if invalid {
            let out: Vec<Value> = body
                .records
                .iter()
                .map(|_| failure(None, &[rolled_back()]))
                .collect();
            return json_response(StatusCode::OK, &out);
        }
    }
    let mut out = Vec::new();
    for rec in &body.records {
        let Some(map) = rec.as_object() else {
            out.push(failure(
                None,
                &[ErrorItem::new(
                    "JSON_PARSER_ERROR",
                    "Each record must be a JSON object",
                    vec![],
                )],
            ));
            continue;
        };
        let Some(value) = map.get(&field).and_then(Value::as_str).map(str::to_string) else {
            out.push(failure(
                None,
                &[ErrorItem::new(
                    "MISSING_ARGUMENT",
                    format!("{field} not specified"),
                    vec![],
                )],
            ));
            continue;
        };
        match upsert_record(&emu, &def, &field, &value, map) {
            Ok((id, created)) => out.push(save_result(&id, Some(created))),
            Err(UpsertError::Multiple(ids)) => out.push(failure(
                None,
                &[ErrorItem::new(
                    "DUPLICATE_EXTERNAL_ID",
                    format!(
                        "{field}: more than one record found for external id field: {}",
                        ids.join(", ")
                    ),
                    vec![field.clone()],
                )],
            )),
            Err(UpsertError::Errors(_, errs)) => out.push(failure(None, &errs)),
        }
    }
    json_response(StatusCode::OK, &out)
}

// ---------------------------------------------------------------- control surface

async fn control_counters(State(emu): State<SalesforceEmulator>) -> Response {
    let c = emu.counters();
    let by_kind: Map<String, Value> = c
        .by_kind
        .iter()
        .map(|(k, v)| (format!("{k:?}"), Value::from(*v)))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"total": c.total, "apiCalls": c.api_calls, "faults": c.faults, "byKind": by_kind, "apiUsage": emu.api_usage()}),
    )
}

async fn control_expire_tokens(State(emu): State<SalesforceEmulator>) -> Response {
    emu.expire_all_tokens();
    StatusCode::NO_CONTENT.into_response()
}

/// `{"latencyMs":…, "errorRate":…, "inject":["ServiceUnavailable","UnableToLockRow",…], "clear":bool}`
async fn control_faults(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if v.get("clear").and_then(Value::as_bool) == Some(true) {
        emu.clear_faults();
    }
    if let Some(ms) = v.get("latencyMs").and_then(Value::as_u64) {
        emu.set_latency(std::time::Duration::from_millis(ms));
    }
    if let Some(rate) = v.get("errorRate").and_then(Value::as_f64) {
        emu.set_error_rate(rate);
    }
    if let Some(list) = v.get("inject").and_then(Value::as_array) {
        let faults = list
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|s| match s {
                "ServiceUnavailable" => Some(Fault::ServiceUnavailable),
                "InternalError" => Some(Fault::InternalError),
                "InternalErrorAfterApply" => Some(Fault::InternalErrorAfterApply),
                "UnableToLockRow" => Some(Fault::UnableToLockRow),
                "ValidationRule" => Some(Fault::ValidationRule),
                "RequestLimitExceeded" => Some(Fault::RequestLimitExceeded),
                "InvalidSession" => Some(Fault::InvalidSession),
                _ => None,
            });
        emu.inject_faults(faults.collect::<Vec<_>>());
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `{"used":…, "max":…}`
async fn control_limits(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(used) = v.get("used").and_then(Value::as_u64) {
        emu.set_api_usage(used);
    }
    if let Some(max) = v.get("max").and_then(Value::as_u64) {
        emu.set_daily_api_limit(max);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `{"edit": bool, "convert": ["00Q…", …]}`: grants or withdraws "View and Edit Converted
/// Leads"; marks Leads converted. 404 when an id to convert is not a live Lead.
async fn control_converted_leads(State(emu): State<SalesforceEmulator>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(edit) = v.get("edit").and_then(Value::as_bool) {
        emu.set_edit_converted_leads(edit);
    }
    for id in v
        .get("convert")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !emu.convert_lead(id, None, None) {
            return not_found_resource();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
