//! An editor's side of `crmmap lsp` over an in-memory connection to the real message loop, for
//! the server test and the requests benchmark.

use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::Url;
use serde_json::{Value, json};

/// How long an answer may take before the caller fails.
const WAIT: Duration = Duration::from_secs(60);

/// The client end of a connection to a running server.
pub struct Client {
    conn: Connection,
    next: i32,
}

impl Client {
    /// Sends a request and waits for its response (other messages are passed over).
    pub fn request(&mut self, method: &str, params: Value) -> Response {
        self.next += 1;
        let id = RequestId::from(self.next);
        let req = Request::new(id.clone(), method.to_owned(), params);
        self.conn.sender.send(Message::Request(req)).expect("send");
        loop {
            match self.conn.receiver.recv_timeout(WAIT) {
                Ok(Message::Response(r)) if r.id == id => return r,
                Ok(_) => {}
                Err(e) => panic!("no answer to {method}: {e}"),
            }
        }
    }

    /// Sends a notification.
    pub fn notify(&self, method: &str, params: Value) {
        let n = Notification::new(method.to_owned(), params);
        self.conn
            .sender
            .send(Message::Notification(n))
            .expect("send");
    }

    /// The next diagnostics published for `uri`.
    pub fn diagnostics(&self, uri: &Url) -> Vec<Value> {
        loop {
            match self.conn.receiver.recv_timeout(WAIT) {
                Ok(Message::Notification(n))
                    if n.method == "textDocument/publishDiagnostics"
                        && n.params["uri"] == uri.as_str() =>
                {
                    return n.params["diagnostics"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                }
                Ok(_) => {}
                Err(e) => panic!("no diagnostics for {uri}: {e}"),
            }
        }
    }
}

/// The server on its own thread, initialized with `root` as the workspace: the client, the
/// server's thread and the capabilities it answered.
pub fn start(root: &Path) -> (Client, JoinHandle<Result<(), String>>, Value) {
    let (server, conn) = Connection::memory();
    let handle = std::thread::spawn(move || crmmap_lsp::serve(&server));
    let mut client = Client { conn, next: 0 };
    let root = Url::from_file_path(root).expect("a file url");
    let init = client.request("initialize", json!({ "capabilities": {}, "rootUri": root }));
    assert!(init.error.is_none(), "{init:?}");
    let capabilities = init
        .result
        .map_or(Value::Null, |r| r["capabilities"].clone());
    client.notify("initialized", json!({}));
    (client, handle, capabilities)
}

/// The protocol position of `needle` in `text` (zero-based line, UTF-16 column), plus `plus`
/// characters.
pub fn at(text: &str, needle: &str, plus: usize) -> Value {
    let start = text.find(needle).expect("the needle is in the text");
    let before = text.get(..start).unwrap_or_default();
    let line = before.matches('\n').count();
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .encode_utf16()
        .count();
    json!({ "line": line, "character": column + plus })
}
