//! One page driven over a Chrome DevTools Protocol connection of its own: the extension's popup.
//!
//! chromiumoxide does not attach to a popup by itself, and its `fetch_targets` makes it forget
//! every page it holds. A popup also closes as soon as it is out of focus and no DevTools
//! client is attached to it. So the test attaches one session to the popup and keeps it until
//! the popup is done with: no `Page.enable`, no auto-attach, just evaluations.

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::{ConnectStream, connect_async};
use async_tungstenite::tungstenite::Message;
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::Mutex;

pub struct CdpPage {
    socket: Mutex<(WebSocketStream<ConnectStream>, u64)>,
    session: String,
    /// What the page is, for messages.
    pub name: String,
}

impl CdpPage {
    /// Attaches to the target over a new connection to the browser at `ws_url`.
    pub async fn attach(ws_url: &str, target_id: &str, name: &str) -> CdpPage {
        let (socket, _) = connect_async(ws_url).await.expect("a DevTools connection");
        let mut page = CdpPage {
            socket: Mutex::new((socket, 0)),
            session: String::new(),
            name: name.to_string(),
        };
        let attached = page
            .command(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await
            .unwrap_or_else(|e| panic!("attaching to {name}: {e}"));
        page.session = attached["sessionId"].as_str().unwrap().to_string();
        page
    }

    async fn command(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let mut guard = self.socket.lock().await;
        let (socket, next_id) = &mut *guard;
        *next_id += 1;
        let id = *next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        socket
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
                .await
                .map_err(|_| format!("no answer to {method} in 30 s"))?
                .ok_or("the browser closed the connection")?
                .map_err(|e| e.to_string())?;
            let Ok(text) = frame.to_text() else { continue };
            let answer: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            if answer["id"] != json!(id) {
                continue; // an event
            }
            if let Some(error) = answer.get("error") {
                return Err(error.to_string());
            }
            return Ok(answer["result"].clone());
        }
    }

    /// Evaluates `js` once, awaiting a promise: its value, or what went wrong.
    pub async fn try_eval(&self, js: &str) -> Result<Value, String> {
        let params = json!({"expression": js, "awaitPromise": true, "returnByValue": true});
        let result = self
            .command(Some(&self.session), "Runtime.evaluate", params)
            .await?;
        if let Some(thrown) = result.get("exceptionDetails") {
            return Err(thrown.to_string());
        }
        Ok(result["result"]
            .get("value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Evaluates `js` once.
    pub async fn eval(&self, js: &str) -> Value {
        self.try_eval(js)
            .await
            .unwrap_or_else(|e| panic!("{} in {}: {e}", js, self.name))
    }

    /// Evaluates `js` every 100 ms until it gives something other than null, undefined or
    /// false (for up to 30 s); fails at once if the page closes.
    pub async fn wait_for(&self, what: &str, js: &str) -> Value {
        self.until_gone(what, js)
            .await
            .unwrap_or_else(|| panic!("{} closed while waiting for {what}", self.name))
    }

    /// `wait_for`, except that a page closed meanwhile gives `None`.
    pub async fn until_gone(&self, what: &str, js: &str) -> Option<Value> {
        let mut last = String::new();
        for _ in 0..300 {
            match self.try_eval(js).await {
                Ok(value) if !value.is_null() && value != Value::Bool(false) => return Some(value),
                Ok(_) => {}
                Err(e) if e.contains("Session with given id not found") => return None,
                Err(e) => last = format!(" ({} answered: {e})", self.name),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}{last}");
    }

    /// A PNG of what the page shows.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let shot = self
            .command(
                Some(&self.session),
                "Page.captureScreenshot",
                json!({"format": "png"}),
            )
            .await
            .unwrap_or_else(|e| panic!("a screenshot of {}: {e}", self.name));
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }
}
