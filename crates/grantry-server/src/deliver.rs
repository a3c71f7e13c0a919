//! The deliverer: the background job that sends the outbox's notifications. Twice a second it
//! leases what is due, webhook by webhook with a share each (so another server does not send the
//! same one meanwhile, and one slow receiver does not hold up the others), POSTs each to its
//! webhook — JSON, signed: `X-Grantry-Signature: sha256=HMAC(secret, "{timestamp}.{body}")` with
//! `X-Grantry-Timestamp`, `X-Grantry-Event` and `X-Grantry-Delivery` (the notification's id, for
//! the receiver to drop repeats) — and settles it: delivered on a 2xx answer; otherwise tried
//! again after 1, 2, 4 … seconds (at most an hour apart), and given up after `MAX_ATTEMPTS`.
//! Delivery is at least once: a server that dies mid-send leaves the lease to run out, and the
//! notification is sent again.

use crate::clock;
use crate::state::AppState;
use grantry_core::model::{ResourceRef, Webhook, WEBHOOK};
use grantry_core::{SignedDuration, Timestamp};
use grantry_store::{Delivery, Settlement};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// How long a lease holds, how many are taken at once, and how many attempts one gets.
const LEASE: SignedDuration = SignedDuration::from_secs(60);
pub const MAX_ATTEMPTS: u32 = 25;
/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest error kept.
const MAX_ERROR: usize = 500;

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s … at most an hour.
pub fn backoff(attempts: u32) -> SignedDuration {
    SignedDuration::from_secs(1i64 << attempts.saturating_sub(1).min(12)).min(SignedDuration::from_hours(1))
}

/// The signature of `body` sent at `timestamp` (Unix seconds) under `secret`, as hex.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // INVARIANT: HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves webhook hosts, leaving out every address deliveries may never go to
/// ([`crate::service::forbidden_ip`]): a name that resolves only to such is not reached.
struct Guarded;

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<std::net::SocketAddr> = all.into_iter().filter(|a| !crate::service::forbidden_ip(a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("`{host}` resolves only to link-local (cloud metadata) addresses, which webhooks never reach").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Runs forever (until the task is aborted), delivering what is due.
pub async fn run(state: AppState) {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(Guarded))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot make the webhook client; notifications stay in the outbox");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sends = Sends::default();
    loop {
        tick.tick().await;
        if let Err(e) = sends.start_due(&state, &client).await {
            tracing::warn!(error = %e, "could not read the outbox; will retry");
        }
    }
}

/// The sends under way, across ticks: at most `IN_FLIGHT` in all and `PER_WEBHOOK` to one
/// webhook, so a flooded or slow receiver (one that never answers holds a send for the whole
/// timeout) takes its own share and no more.
#[derive(Default)]
struct Sends {
    running: tokio::task::JoinSet<String>,
    per_webhook: std::collections::HashMap<String, usize>,
}

/// How many sends may be under way at once, in all and to one webhook.
const IN_FLIGHT: usize = 64;
const PER_WEBHOOK: usize = 4;

impl Sends {
    /// Counts the sends that finished, then leases and starts what is due, webhook by webhook.
    async fn start_due(&mut self, state: &AppState, client: &reqwest::Client) -> grantry_store::Result<()> {
        while let Some(done) = self.running.try_join_next() {
            if let Ok(hook) = done {
                if let Some(n) = self.per_webhook.get_mut(&hook) {
                    *n = n.saturating_sub(1);
                }
            }
        }
        self.per_webhook.retain(|_, n| *n > 0);
        let now = clock::now();
        let until = now.checked_add(LEASE).unwrap_or(now);
        let room = IN_FLIGHT.saturating_sub(self.running.len());
        if room == 0 {
            return Ok(());
        }
        for (org, hook) in state.store.webhooks_due(now, u32::try_from(room).unwrap_or(u32::MAX)).await? {
            let busy = self.per_webhook.get(&hook).copied().unwrap_or(0);
            let take = PER_WEBHOOK.saturating_sub(busy).min(IN_FLIGHT.saturating_sub(self.running.len()));
            if take == 0 {
                continue;
            }
            for d in state.store.lease_due(&org, &hook, now, until, u32::try_from(take).unwrap_or(1)).await? {
                *self.per_webhook.entry(hook.clone()).or_default() += 1;
                let (state, client, hook) = (state.clone(), client.clone(), hook.clone());
                self.running.spawn(async move {
                    deliver(&state, &client, d).await;
                    hook
                });
            }
        }
        Ok(())
    }
}

/// Sends one notification and settles it.
async fn deliver(state: &AppState, client: &reqwest::Client, d: Delivery) {
    let hook = {
        let ix = state.index();
        ix.org(&d.org).and_then(|o| o.resource(&ResourceRef::new(WEBHOOK, &d.notice.webhook))).and_then(|r| Webhook::of(&r))
    };
    let attempts = d.attempts.saturating_add(1);
    let settlement = match hook {
        None => Settlement::GivenUp { attempts: d.attempts, error: "the webhook was deleted".into() },
        Some(hook) => match send(state, client, &d, &hook).await {
            Ok(()) => Settlement::Delivered { at: clock::now(), attempts },
            Err(mut error) => {
                error.truncate(MAX_ERROR);
                tracing::info!(webhook = %hook.id, notice = %d.notice.id, attempts, error = %error, "a webhook delivery failed");
                if attempts >= MAX_ATTEMPTS {
                    Settlement::GivenUp { attempts, error }
                } else {
                    let next = clock::now().checked_add(backoff(attempts)).unwrap_or(Timestamp::MAX);
                    Settlement::Retry { attempts, next, error }
                }
            }
        },
    };
    if let Err(e) = state.store.settle(&d.org, &d.notice.id, settlement).await {
        // The lease runs out and it is sent again: at least once.
        tracing::warn!(error = %e, notice = %d.notice.id, "could not record a delivery");
    }
}

/// POSTs the notification to the webhook, signed; what went wrong, if anything.
async fn send(state: &AppState, client: &reqwest::Client, d: &Delivery, hook: &Webhook) -> Result<(), String> {
    let secret = state.store.webhook_secret(&d.org, &hook.id, hook.generation);
    let timestamp = clock::now().as_second();
    let body = d.notice.payload.clone();
    let answer = client
        .post(&hook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, concat!("grantry/", env!("CARGO_PKG_VERSION")))
        .header("X-Grantry-Event", &d.notice.event_type)
        .header("X-Grantry-Delivery", &d.notice.id)
        .header("X-Grantry-Timestamp", timestamp.to_string())
        .header("X-Grantry-Signature", format!("sha256={}", signature(&secret, timestamp, &body)))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {status}"))
    }
}
