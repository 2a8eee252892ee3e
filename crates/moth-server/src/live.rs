//! Live updates: one poller per server reads the event log and fans events out to every open
//! page over server-sent events. A page that reconnects sends the last event id it saw and
//! gets what it missed from the log, so nothing is skipped and nothing is seen twice. Several
//! nodes on one PostgreSQL each read the same log, so a change on one reaches pages on all.

use moth_store::{Event, Store};
use serde::Serialize;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often the log is read while someone listens; pages update well within a second.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Most events read from the log at once.
const BATCH: i64 = 500;

/// What a page learns of a change: enough to decide whether to refresh itself.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LiveEvent {
    pub id: i64,
    pub kind: String,
    pub project: Option<String>,
    pub issue: Option<String>,
}

impl From<&Event> for LiveEvent {
    fn from(event: &Event) -> Self {
        LiveEvent {
            id: event.id,
            kind: event.kind.clone(),
            project: event.project.clone(),
            issue: event.issue.clone(),
        }
    }
}

/// The fan-out of the event log to the open pages of this server.
pub struct LiveFeed {
    store: Store,
    sender: broadcast::Sender<Arc<LiveEvent>>,
    closed: watch::Sender<bool>,
    poller: std::sync::Once,
}

impl LiveFeed {
    pub fn new(store: Store) -> Arc<Self> {
        let (sender, _) = broadcast::channel(1024);
        let (closed, _) = watch::channel(false);
        Arc::new(LiveFeed {
            store,
            sender,
            closed,
            poller: std::sync::Once::new(),
        })
    }

    /// Events from now on; the poller starts with the first listener.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<Arc<LiveEvent>> {
        let receiver = self.sender.subscribe();
        self.poller.call_once(|| {
            tokio::spawn(poll(Arc::downgrade(self)));
        });
        receiver
    }

    /// Tells every open stream to end (on shutdown, so draining does not wait for them).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once the feed is closed.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// A follower of the log from `resume` (the last event a page saw), else from now;
    /// `project` and `issue` narrow what it is told.
    async fn follow(
        self: &Arc<Self>,
        resume: Option<i64>,
        project: Option<String>,
        issue: Option<String>,
    ) -> moth_store::StoreResult<Follower> {
        // Subscribe before reading the position, so nothing committed in between is missed.
        let receiver = self.subscribe();
        let last_sent = match resume {
            Some(id) => id,
            None => self.store.last_event_id().await?,
        };
        Ok(Follower {
            closed: self.closed(),
            feed: self.clone(),
            receiver,
            last_sent,
            project,
            issue,
            pending: Default::default(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Reads the log after the last event seen and broadcasts each new event, while the feed lives.
async fn poll(feed: Weak<LiveFeed>) {
    let mut last = None;
    loop {
        let Some(live) = feed.upgrade() else { return };
        if *live.closed.borrow() {
            return;
        }
        if live.sender.receiver_count() == 0 {
            // Nobody listens: forget the position, so a later listener does not get old news.
            last = None;
        } else {
            let from = match last {
                Some(id) => Ok(id),
                None => live.store.last_event_id().await,
            };
            match from {
                Ok(from) => match live.store.events_after(from, BATCH).await {
                    Ok(events) => {
                        last = Some(events.last().map_or(from, |e| e.id));
                        for event in &events {
                            let _ = live.sender.send(Arc::new(LiveEvent::from(event)));
                        }
                        if events.len() as i64 == BATCH {
                            continue;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "live feed could not read the event log"),
                },
                Err(error) => tracing::warn!(%error, "live feed could not read the event log"),
            }
        }
        drop(live);
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// One page's stream: woken by the poller, it reads the log itself from the last event it
/// sent, so a wake-up it missed or a poller that started late can never skip an event.
struct Follower {
    feed: Arc<LiveFeed>,
    receiver: broadcast::Receiver<Arc<LiveEvent>>,
    closed: watch::Receiver<bool>,
    last_sent: i64,
    project: Option<String>,
    /// One issue's events only (the reporter's status page).
    issue: Option<String>,
    pending: std::collections::VecDeque<LiveEvent>,
}

/// A stream that checks the log this often even without a wake-up (a safety net).
const RECHECK_EVERY: Duration = Duration::from_secs(5);

impl Follower {
    async fn next(&mut self) -> Option<LiveEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if *self.closed.borrow() {
                return None;
            }
            match self.feed.store.events_after(self.last_sent, BATCH).await {
                Ok(events) if !events.is_empty() => {
                    self.last_sent = events.last().map_or(self.last_sent, |e| e.id);
                    self.pending.extend(
                        events
                            .iter()
                            .filter(|e| self.project.is_none() || e.project == self.project)
                            .filter(|e| self.issue.is_none() || e.issue == self.issue)
                            .map(LiveEvent::from),
                    );
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "live stream could not read the event log"),
            }
            tokio::select! {
                woken = self.receiver.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = woken {
                        return None;
                    }
                }
                _ = self.closed.changed() => {}
                _ = tokio::time::sleep(RECHECK_EVERY) => {}
            }
        }
    }
}

pub mod http {
    //! `GET /events`: the server-sent events stream the pages listen to.

    use super::{Follower, LiveEvent};
    use crate::auth::CurrentUser;
    use crate::error::{ApiError, ApiResult};
    use crate::extract::QueryMap;
    use crate::state::AppState;
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
    use futures::Stream;
    use std::convert::Infallible;

    /// Streams events after `Last-Event-ID` (sent by the browser when it reconnects) or
    /// `?after=`, else from now; `?project=KEY` keeps one project's.
    pub async fn stream(
        State(state): State<AppState>,
        _user: CurrentUser,
        headers: HeaderMap,
        query: QueryMap,
    ) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
        let resume = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .or(query.get("after"))
            .map(|text| {
                text.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid("after", "the last event id must be a whole number")
                })
            })
            .transpose()?;
        let project = query.get("project").map(str::to_string);
        if let Some(key) = &project {
            state.store.project(key).await?;
        }
        let follower = state.live.follow(resume, project, None).await?;
        // Pages are told which event it was, so they refresh only for what they show.
        Ok(events_of(follower, |event| {
            SseEvent::default().json_data(event).unwrap_or_default()
        }))
    }

    /// `GET /status/{token}/events`: tells a reporter's status page that their report changed,
    /// and nothing more (no kinds, ids or other issues), so it can show the news at once.
    pub async fn report_stream(
        State(state): State<AppState>,
        axum::extract::Path(token): axum::extract::Path<String>,
        headers: HeaderMap,
    ) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
        let report = crate::status::report_for(&state, &token).await?;
        let resume = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        // A duplicate's reporter follows the original: its news is theirs (and taking the
        // duplicate back out writes to the original's log too).
        let followed = report.original.as_ref().unwrap_or(&report.issue).id.clone();
        let follower = state.live.follow(resume, None, Some(followed)).await?;
        // A reporter learns only that their report changed.
        Ok(events_of(follower, |_| SseEvent::default().data("{}")))
    }

    /// The SSE stream of a follower: each event as `tell` puts it, with the log's id so a
    /// reconnecting browser resumes after it.
    fn events_of(
        follower: Follower,
        tell: fn(&LiveEvent) -> SseEvent,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
        let events = futures::stream::unfold(follower, move |mut follower| async move {
            let event: LiveEvent = follower.next().await?;
            let sse = tell(&event).id(event.id.to_string()).event("change");
            Some((Ok(sse), follower))
        });
        Sse::new(events).keep_alive(KeepAlive::default())
    }
}
