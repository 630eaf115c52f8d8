//! One subscription: a Subscribe stream kept open, re-opened after failures, with flow control.
//!
//! [`Subscription::next`] hands out one [`Delivery`] at a time. The caller applies a batch,
//! checkpoints its `latest_replay_id` (keepalives carry one too), then calls `next` again:
//! only then are the batch's events requested again from the server, so no more than
//! `batch_size` (at most 100) are ever outstanding, and a reconnect resumes after the last
//! replay id handed out (CUSTOM), so nothing handed out is sent twice and nothing is skipped.
//!
//! Failures by class ([`crate::error::Class`]): a rejected replay id (corrupted or past the
//! 72-hour retention) resubscribes `LATEST` and hands out a [`Gap`] with the checkpoint's
//! time, for the caller to reconcile; the delivery allocation exceeded waits (outage backoff)
//! and resumes from the last replay id; other transient failures reconnect with backoff, a
//! bounded number of times in a row; permanent ones are returned.

use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

use crate::avro_json::DecodeError;
use crate::client::{Client, MAX_REQUESTED};
use crate::error::{Class, PubSubError};
use crate::proto::{FetchRequest, FetchResponse, ReplayPreset};

/// Where a subscription starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// Only events committed after the subscription opens.
    Latest,
    /// Every retained event (up to 72 hours back).
    Earliest,
    /// After a stored replay id (`CUSTOM`).
    After {
        /// The replay id as the server gave it (opaque bytes).
        replay_id: Vec<u8>,
        /// When it was checkpointed: the start of the gap reported if it is refused.
        checkpointed_at: Option<SystemTime>,
    },
}

/// One decoded event.
#[derive(Clone, Debug)]
pub struct Event {
    /// Its replay id (opaque bytes).
    pub replay_id: Vec<u8>,
    /// The event's id (`ProducerEvent.id`).
    pub event_id: String,
    /// The Event Relay JSON form of the payload, or why it could not be decoded (such an
    /// event is handed out all the same, for the caller to dead-letter: never dropped, never
    /// retried forever).
    pub payload: Result<serde_json::Value, DecodeErrorMessage>,
}

/// A decode failure as text (the error itself is not `Clone`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeErrorMessage(pub String);

impl From<DecodeError> for DecodeErrorMessage {
    fn from(e: DecodeError) -> Self {
        DecodeErrorMessage(e.to_string())
    }
}

/// What the server sent in one response: events (possibly none, for a keepalive) and the
/// replay id to checkpoint once they are applied.
#[derive(Clone, Debug)]
pub struct Batch {
    pub events: Vec<Event>,
    /// The replay id to store after applying the batch: the last event's, or the keepalive's
    /// `latest_replay_id`. Empty when the server sent none.
    pub latest_replay_id: Vec<u8>,
}

/// Events may have been missed: the stored replay id was refused and the subscription
/// resubscribed `LATEST`. The caller reconciles from `since` (a `SystemModstamp` poll).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// When the refused replay id was checkpointed (`None` if the caller did not say).
    pub since: Option<SystemTime>,
    /// The refused replay id.
    pub rejected_replay_id: Vec<u8>,
}

/// One thing [`Subscription::next`] hands out.
#[derive(Clone, Debug)]
pub enum Delivery {
    Batch(Batch),
    Gap(Gap),
}

struct Live {
    requests: mpsc::Sender<FetchRequest>,
    responses: Streaming<FetchResponse>,
}

/// A subscription to one topic (see the module doc).
pub struct Subscription {
    client: Client,
    topic: String,
    position: Start,
    live: Option<Live>,
    /// Events requested and not yet received on the open stream.
    pending: i32,
    /// Events handed out since the last request for more.
    consumed: i32,
    attempts: u32,
    outage_waits: u32,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("position", &self.position)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(crate) fn new(client: Client, topic: &str, start: Start) -> Self {
        Subscription {
            client,
            topic: topic.to_owned(),
            position: start,
            live: None,
            pending: 0,
            consumed: 0,
            attempts: 0,
            outage_waits: 0,
        }
    }

    /// Events requested from the server and not yet received.
    pub fn pending(&self) -> i32 {
        self.pending
    }

    /// Where a reconnection would start now.
    pub fn position(&self) -> &Start {
        &self.position
    }

    fn batch_size(&self) -> i32 {
        self.client.config.batch_size.clamp(1, MAX_REQUESTED)
    }

    /// The next batch, keepalive or gap. Calling it again means the previous batch is applied.
    pub async fn next(&mut self) -> Result<Delivery, PubSubError> {
        loop {
            let outcome = match self.live.is_some() {
                false => self.open().await.map(|()| None),
                true => self.receive().await,
            };
            match outcome {
                Ok(Some(delivery)) => return Ok(delivery),
                Ok(None) => {}
                Err(err) => {
                    if let Some(delivery) = self.recover(err).await? {
                        return Ok(delivery);
                    }
                }
            }
        }
    }

    async fn open(&mut self) -> Result<(), PubSubError> {
        let (preset, replay_id) = match &self.position {
            Start::Latest => (ReplayPreset::Latest, Vec::new()),
            Start::Earliest => (ReplayPreset::Earliest, Vec::new()),
            Start::After { replay_id, .. } => (ReplayPreset::Custom, replay_id.clone()),
        };
        let batch = self.batch_size();
        let (tx, rx) = mpsc::channel(4);
        let first = FetchRequest {
            topic_name: self.topic.clone(),
            replay_preset: preset as i32,
            replay_id,
            num_requested: batch,
            auth_refresh: String::new(),
        };
        tx.send(first)
            .await
            .map_err(|_| PubSubError::Transport("request stream closed".into()))?;
        let responses = self
            .client
            .grpc()
            .subscribe(ReceiverStream::new(rx))
            .await?
            .into_inner();
        self.pending = batch;
        self.consumed = 0;
        self.live = Some(Live {
            requests: tx,
            responses,
        });
        Ok(())
    }

    async fn receive(&mut self) -> Result<Option<Delivery>, PubSubError> {
        let Some(live) = self.live.as_mut() else {
            return Ok(None);
        };
        if self.consumed > 0 {
            // INVARIANT: pending + consumed never exceeds the batch size (≤ 100).
            let more = FetchRequest {
                topic_name: self.topic.clone(),
                num_requested: self.consumed,
                ..FetchRequest::default()
            };
            live.requests
                .send(more)
                .await
                .map_err(|_| PubSubError::Transport("request stream closed".into()))?;
            self.pending += self.consumed;
            self.consumed = 0;
        }
        let Some(response) = live.responses.message().await? else {
            return Err(PubSubError::Transport("the server ended the stream".into()));
        };
        let received = i32::try_from(response.events.len()).unwrap_or(i32::MAX);
        let mut events = Vec::with_capacity(response.events.len());
        for consumer in response.events {
            let produced = consumer.event.unwrap_or_default();
            // A schema that cannot be fetched fails the whole response (it is re-sent after
            // the reconnect); one that cannot be parsed, or a payload that does not decode,
            // fails only its event.
            let payload = match self.client.schema(&produced.schema_id).await {
                Ok(schema) => schema.decode(&produced.payload).map_err(Into::into),
                Err(PubSubError::Decode(e)) => Err(e.into()),
                Err(e) => return Err(e),
            };
            events.push(Event {
                replay_id: consumer.replay_id,
                event_id: produced.id,
                payload,
            });
        }
        self.pending = (self.pending - received).max(0);
        self.consumed = received;
        let latest = match events.last() {
            Some(last) => last.replay_id.clone(),
            None => response.latest_replay_id,
        };
        if !latest.is_empty() {
            self.position = Start::After {
                replay_id: latest.clone(),
                checkpointed_at: Some(SystemTime::now()),
            };
        }
        self.attempts = 0;
        self.outage_waits = 0;
        Ok(Some(Delivery::Batch(Batch {
            events,
            latest_replay_id: latest,
        })))
    }

    /// Handles a failure of the open stream: `Ok(Some)` hands out a gap, `Ok(None)` retries.
    async fn recover(&mut self, err: PubSubError) -> Result<Option<Delivery>, PubSubError> {
        self.live = None;
        self.pending = 0;
        self.consumed = 0;
        let config = self.client.config.clone();
        match err.class() {
            Class::ReplayIdRejected => {
                self.attempts += 1;
                if self.attempts > config.retries.max_attempts {
                    return Err(give_up(self.attempts, err));
                }
                let refused = std::mem::replace(&mut self.position, Start::Latest);
                tracing::warn!(topic = %self.topic, "replay id refused; resubscribing LATEST");
                match refused {
                    Start::After {
                        replay_id,
                        checkpointed_at,
                    } => Ok(Some(Delivery::Gap(Gap {
                        since: checkpointed_at,
                        rejected_replay_id: replay_id,
                    }))),
                    _ => {
                        tokio::time::sleep(config.retries.reconnect.delay_now(self.attempts)).await;
                        Ok(None)
                    }
                }
            }
            Class::Outage => {
                self.outage_waits += 1;
                if self.outage_waits > config.retries.max_outage_waits {
                    return Err(give_up(self.outage_waits, err));
                }
                let wait = config.retries.outage_wait.delay_now(self.outage_waits);
                tracing::warn!(topic = %self.topic, ?wait, error = %err, "pub/sub outage; waiting");
                tokio::time::sleep(wait).await;
                Ok(None)
            }
            Class::Transient => {
                self.attempts += 1;
                if self.attempts > config.retries.max_attempts {
                    return Err(give_up(self.attempts, err));
                }
                let wait = config.retries.reconnect.delay_now(self.attempts);
                tracing::info!(topic = %self.topic, ?wait, error = %err, "pub/sub reconnecting");
                tokio::time::sleep(wait).await;
                Ok(None)
            }
            Class::Permanent => Err(err),
        }
    }
}

fn give_up(attempts: u32, last: PubSubError) -> PubSubError {
    PubSubError::GaveUp {
        attempts,
        last: Box::new(last),
    }
}
