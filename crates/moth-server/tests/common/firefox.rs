//! A real headless Firefox, driven over WebDriver BiDi (the protocol Firefox speaks itself, no
//! geckodriver between): launch with a fresh profile, install an extension, open tabs, evaluate
//! and click. Only what the extension tests need.

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::{ConnectStream, connect_async};
use async_tungstenite::tungstenite::Message;
use futures::StreamExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where Firefox is: `MOTH_TEST_FIREFOX`, else Debian's `firefox-esr` or a `firefox`.
pub fn firefox_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MOTH_TEST_FIREFOX") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/firefox-esr", "/usr/bin/firefox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// True (and says so) where no Firefox is installed; CI installs one and sets
/// `MOTH_TEST_REQUIRE_FIREFOX`, where a missing Firefox fails instead.
pub fn firefox_missing() -> bool {
    if firefox_path().is_some() {
        return false;
    }
    assert!(
        std::env::var_os("MOTH_TEST_REQUIRE_FIREFOX").is_none(),
        "MOTH_TEST_REQUIRE_FIREFOX is set but there is no Firefox (apt-get install firefox-esr)"
    );
    eprintln!("skipped: no Firefox (apt-get install firefox-esr)");
    true
}

/// An extension's pages live at `moz-extension://{uuid}/`, a uuid Firefox draws at install
/// unless the profile names it: the tests name it to find the pages.
pub const EXTENSION_UUID: &str = "0d7a3c33-6b1f-4b8e-9a53-7c2d4e5f6a70";

pub struct Firefox {
    socket: WebSocketStream<ConnectStream>,
    next_id: u64,
    // Killed when the test ends, with the profile removed after it.
    _process: Child,
    _profile: tempfile::TempDir,
}

impl Firefox {
    /// Starts headless Firefox on a new profile.
    pub async fn launch() -> Firefox {
        Firefox::start(&[]).await
    }

    /// Starts headless Firefox on a new profile whose preferences give the extension with
    /// `extension_id` the known uuid, let `action.openPopup` open the popup without a click
    /// (the test cannot click the toolbar, which is browser chrome, not a page), and answer
    /// `permissions.request` yes without showing the prompt it cannot click either.
    pub async fn launch_for_extension(extension_id: &str) -> Firefox {
        let mut uuids = serde_json::Map::new();
        uuids.insert(extension_id.to_string(), json!(EXTENSION_UUID));
        Firefox::start(&[
            (
                "extensions.webextensions.uuids",
                json!(Value::Object(uuids).to_string()),
            ),
            (
                "extensions.openPopupWithoutUserGesture.enabled",
                json!(true),
            ),
            ("extensions.webextOptionalPermissionPrompts", json!(false)),
        ])
        .await
    }

    async fn start(prefs: &[(&str, Value)]) -> Firefox {
        let profile = tempfile::tempdir().unwrap();
        let common = [
            (
                "extensions.openPopupWithoutUserGesture.enabled",
                json!(true),
            ),
            ("extensions.webextOptionalPermissionPrompts", json!(false)),
            // The machine has no network but loopback: nothing to fetch at start.
            ("app.update.disabledForTesting", json!(true)),
            ("browser.shell.checkDefaultBrowser", json!(false)),
            ("datareporting.policy.dataSubmissionEnabled", json!(false)),
        ];
        let user_js: String = common
            .iter()
            .chain(prefs)
            .map(|(name, value)| format!("user_pref({name:?}, {value});\n"))
            .collect();
        std::fs::write(profile.path().join("user.js"), user_js).unwrap();

        let mut process = Command::new(firefox_path().expect("Firefox"))
            .args(["--headless", "--no-remote", "--profile"])
            .arg(profile.path())
            .args(["--remote-debugging-port", "0", "--window-size", "1280,900"])
            // Since Firefox 153 the remote agent navigates to http(s), file and blob URLs only,
            // unless allowed system access: the extension's own pages are moz-extension://.
            .arg("--remote-allow-system-access")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start Firefox");
        // It says where it listens on stderr, once ready.
        let mut lines = BufReader::new(process.stderr.take().unwrap()).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(at) = line.strip_prefix("WebDriver BiDi listening on ") {
                    return at.trim().to_string();
                }
            }
            panic!("Firefox ended before it listened");
        })
        .await
        .expect("Firefox listens within a minute");
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let (socket, _) = connect_async(format!("{address}/session")).await.unwrap();
        let mut firefox = Firefox {
            socket,
            next_id: 0,
            _process: process,
            _profile: profile,
        };
        firefox
            .command("session.new", json!({"capabilities": {}}))
            .await;
        firefox
    }

    /// Sends one command and waits for its answer (events in between are not needed here).
    pub async fn command(&mut self, method: &str, params: Value) -> Value {
        self.try_command(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    pub async fn try_command(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket.send(Message::text(message)).await.unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(60), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer within a minute"))
                .expect("Firefox closed the connection")
                .unwrap();
            let Message::Text(text) = message else {
                continue;
            };
            let answer: Value = serde_json::from_str(text.as_str()).unwrap();
            if answer["id"] != id {
                continue;
            }
            return if answer["type"] == "error" {
                Err(answer)
            } else {
                Ok(answer["result"].clone())
            };
        }
    }

    /// Installs the unpacked extension in `dir` as a temporary add-on; answers its id.
    pub async fn install_extension(&mut self, dir: &Path) -> String {
        let answer = self
            .command(
                "webExtension.install",
                json!({"extensionData": {"type": "path", "path": dir}}),
            )
            .await;
        answer["extension"].as_str().unwrap().to_string()
    }

    /// Opens `url` in a new tab, once loaded; answers the tab.
    pub async fn new_tab(&mut self, url: &str) -> String {
        let created = self
            .command("browsingContext.create", json!({"type": "tab"}))
            .await;
        let tab = created["context"].as_str().unwrap().to_string();
        // `--window-size` no longer sizes the page in Firefox 153: the viewport is set, or a
        // click near the bottom of a 900 px page falls outside the one Firefox reports.
        self.set_viewport(&tab, 1280, 900, 1.0).await;
        self.navigate(&tab, url).await;
        tab
    }

    /// Loads `url` in the tab, and waits until it has loaded.
    pub async fn navigate(&mut self, tab: &str, url: &str) {
        self.command(
            "browsingContext.navigate",
            json!({"context": tab, "url": url, "wait": "complete"}),
        )
        .await;
    }

    /// Brings a tab to the front of its window.
    pub async fn activate(&mut self, tab: &str) {
        self.command("browsingContext.activate", json!({"context": tab}))
            .await;
    }

    /// Evaluates `expression` in the tab, awaiting it if it is a promise; answers its value
    /// as JSON.
    pub async fn eval(&mut self, tab: &str, expression: &str) -> Value {
        let wrapped = format!(
            "(async () => {{ const value = await ({expression}); \
             return value === undefined ? 'null' : JSON.stringify(value); }})()"
        );
        let answer = self
            .command(
                "script.evaluate",
                json!({"expression": wrapped, "target": {"context": tab}, "awaitPromise": true}),
            )
            .await;
        if answer["type"] == "exception" {
            panic!(
                "{expression}: {}",
                answer["exceptionDetails"]["text"]
                    .as_str()
                    .unwrap_or("threw")
            );
        }
        serde_json::from_str(answer["result"]["value"].as_str().unwrap()).unwrap()
    }

    /// Evaluates `condition` every 100 ms until it is truthy (for up to 30 s); answers it.
    pub async fn wait_for(&mut self, tab: &str, what: &str, condition: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            last = self.eval(tab, condition).await;
            let truthy = match &last {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what} (last: {last})");
    }

    /// A real click (pointer down and up from the input system, a user gesture to the page)
    /// in the middle of the element `selector` finds.
    pub async fn click(&mut self, tab: &str, selector: &str) {
        self.click_on(tab, &format!("document.querySelector({selector:?})"))
            .await;
    }

    /// A real click in the middle of the element `element` (JavaScript) evaluates to, scrolled
    /// into view first.
    pub async fn click_on(&mut self, tab: &str, element: &str) {
        // Scrolled to first, as a person would (BiDi does not scroll for a click), and pressed
        // at the middle of where it shows (Firefox 153 misplaces a fixed element inside a
        // shadow root when the pointer's origin is the element itself), once it has stopped
        // moving and nothing covers it: a form still laying out would take the press on
        // whatever moved under the pointer.
        let measure = format!(
            "(e => {{ if (!e) return null; e.scrollIntoView({{block: 'center', inline: 'center'}}); \
             const r = e.getBoundingClientRect(); \
             const x = Math.round(r.left + r.width / 2), y = Math.round(r.top + r.height / 2); \
             let hit = document.elementFromPoint(x, y); \
             while (hit && hit.shadowRoot) {{ const inner = hit.shadowRoot.elementFromPoint(x, y); \
               if (!inner || inner === hit) break; hit = inner; }} \
             return [x, y, !!hit && (hit === e || e.contains(hit))]; }})({element})"
        );
        let mut last = Value::Null;
        let mut settled = None;
        for _ in 0..100 {
            let now = self.eval(tab, &measure).await;
            assert!(!now.is_null(), "no element {element}");
            if now == last && now[2] == Value::Bool(true) {
                settled = Some((now[0].as_i64().unwrap(), now[1].as_i64().unwrap()));
                break;
            }
            last = now;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (x, y) =
            settled.unwrap_or_else(|| panic!("{element} kept moving or stayed covered: {last}"));
        self.command(
            "input.performActions",
            json!({"context": tab, "actions": [{
                "type": "pointer",
                "id": "mouse",
                "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "x": x, "y": y, "origin": "viewport"},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                ],
            }]}),
        )
        .await;
    }

    /// Types `text` with real key presses into what has the focus.
    pub async fn type_text(&mut self, tab: &str, text: &str) {
        let keys: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                let key = c.to_string();
                [
                    json!({"type": "keyDown", "value": key}),
                    json!({"type": "keyUp", "value": key}),
                ]
            })
            .collect();
        self.command(
            "input.performActions",
            json!({"context": tab, "actions": [{"type": "key", "id": "keyboard", "actions": keys}]}),
        )
        .await;
    }

    /// Sets the tab's viewport in CSS pixels and its device pixel ratio.
    pub async fn set_viewport(&mut self, tab: &str, width: u32, height: u32, ratio: f64) {
        self.command(
            "browsingContext.setViewport",
            json!({"context": tab, "viewport": {"width": width, "height": height}, "devicePixelRatio": ratio}),
        )
        .await;
    }
}
