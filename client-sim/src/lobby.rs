//! [`LobbyClient`]: the REST lobby and matchmaking API, with polite retries.

use std::sync::Arc;
use std::time::Duration;

use protocol::api::{
    CreateLobby, CreateTicket, ErrorBody, JoinLobby, JoinOrCreate, LobbyMembership, LobbyView,
    SeatGrant, TicketStatus, TicketView,
};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ClientError;
use crate::throttle::{ThrottleCounters, Throttling};

/// How often a ticket or lobby is polled.
const POLL: Duration = Duration::from_millis(100);
/// Longest wait on one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a rate-limited or unavailable request is retried.
const RETRIES: u32 = 20;

/// An HTTP client with the lobby's timeout and pool, connecting from `source` if given.
fn http_client(source: Option<std::net::IpAddr>) -> Result<reqwest::Client, ClientError> {
    Ok(reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(64)
        .local_address(source)
        .build()?)
}

/// A client of the lobby API at one server. Clones share its connection pool and its
/// [`Throttling`] counts.
#[derive(Debug, Clone)]
pub struct LobbyClient {
    http: reqwest::Client,
    base: String,
    throttle: Arc<ThrottleCounters>,
}

impl LobbyClient {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        Ok(Self {
            http: http_client(None)?,
            base: base.trim_end_matches('/').to_owned(),
            throttle: Arc::default(),
        })
    }

    /// A client of the same server whose connections leave from `source` (the system's choice
    /// when `None`), with its own connection pool; it shares this one's [`Throttling`] counts.
    pub fn with_source(&self, source: Option<std::net::IpAddr>) -> Result<Self, ClientError> {
        Ok(Self {
            http: http_client(source)?,
            ..self.clone()
        })
    }

    /// A client of the server at `base` that shares this one's connection pool and
    /// [`Throttling`] counts (for the nodes of a cluster).
    pub fn at(&self, base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            ..self.clone()
        }
    }

    /// The HTTP 429 answers this client (and its clones) received, and the time spent waiting
    /// them out.
    pub fn throttling(&self) -> Throttling {
        self.throttle.snapshot()
    }

    /// A seat right away, in an open room of `mode` or a new one.
    pub async fn join_or_create(
        &self,
        player_name: &str,
        mode: &str,
    ) -> Result<SeatGrant, ClientError> {
        let body = JoinOrCreate {
            player_name: player_name.to_owned(),
            mode: mode.to_owned(),
        };
        self.send(|| {
            self.http
                .post(self.url("/api/v1/matchmaking/join-or-create"))
                .json(&body)
        })
        .await
    }

    /// Creates a quick-match ticket.
    pub async fn create_ticket(&self, req: &CreateTicket) -> Result<TicketView, ClientError> {
        self.send(|| {
            self.http
                .post(self.url("/api/v1/matchmaking/tickets"))
                .json(req)
        })
        .await
    }

    /// Reads a ticket.
    pub async fn ticket(&self, id: &str) -> Result<TicketView, ClientError> {
        self.send(|| {
            self.http
                .get(self.url(&format!("/api/v1/matchmaking/tickets/{id}")))
        })
        .await
    }

    /// Searches with a ticket until matched (or `timeout`); returns the owner's seat.
    pub async fn quick_match(
        &self,
        req: &CreateTicket,
        timeout: Duration,
    ) -> Result<SeatGrant, ClientError> {
        let ticket = self.create_ticket(req).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let t = self.ticket(&ticket.ticket_id).await?;
            match t.status {
                TicketStatus::Matched => {
                    return t.seats.into_iter().next().ok_or_else(|| {
                        ClientError::Protocol("matched ticket without seats".into())
                    });
                }
                TicketStatus::Searching if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await
                }
                TicketStatus::Searching => return Err(ClientError::Timeout("a match")),
                other => return Err(ClientError::Protocol(format!("ticket ended as {other:?}"))),
            }
        }
    }

    /// Creates a lobby.
    pub async fn create_lobby(&self, req: &CreateLobby) -> Result<LobbyMembership, ClientError> {
        self.send(|| self.http.post(self.url("/api/v1/lobbies")).json(req))
            .await
    }

    /// Joins a lobby.
    pub async fn join_lobby(
        &self,
        id: &str,
        req: &JoinLobby,
    ) -> Result<LobbyMembership, ClientError> {
        self.send(|| {
            self.http
                .post(self.url(&format!("/api/v1/lobbies/{id}/join")))
                .json(req)
        })
        .await
    }

    /// Reads a lobby as a member.
    pub async fn lobby(&self, id: &str, member_key: &str) -> Result<LobbyView, ClientError> {
        self.send(|| {
            self.http
                .get(self.url(&format!("/api/v1/lobbies/{id}")))
                .header("x-member-key", member_key)
        })
        .await
    }

    /// Starts a lobby (owner only).
    pub async fn start_lobby(&self, id: &str, owner_key: &str) -> Result<LobbyView, ClientError> {
        self.send(|| {
            self.http
                .post(self.url(&format!("/api/v1/lobbies/{id}/start")))
                .header("x-owner-key", owner_key)
        })
        .await
    }

    /// Polls a lobby as a member until the member's seat appears (or `timeout`).
    pub async fn wait_for_seat(
        &self,
        id: &str,
        member_key: &str,
        timeout: Duration,
    ) -> Result<SeatGrant, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(seat) = self.lobby(id, member_key).await?.seat {
                return Ok(seat);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::Timeout("the lobby to start"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request, retrying on 429 and 503 after the server's `Retry-After` (capped).
    async fn send<T: DeserializeOwned>(
        &self,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<T, ClientError> {
        let mut attempt = 0;
        loop {
            let response = request().send().await?;
            let status = response.status();
            if status.is_success() {
                return Ok(response.json().await?);
            }
            let throttled = status == StatusCode::TOO_MANY_REQUESTS;
            if throttled {
                self.throttle.answered_429();
            }
            let retry = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ) && attempt < RETRIES;
            if retry {
                attempt += 1;
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(1.0)
                    .clamp(0.05, 2.0);
                // Spread retries so that a crowd does not come back at once.
                let jitter = 0.5 + rand::random::<f64>();
                let pause = Duration::from_secs_f64(wait * jitter);
                tokio::time::sleep(pause).await;
                if throttled {
                    self.throttle.waited(pause);
                }
                continue;
            }
            let body: Option<ErrorBody> = response.json().await.ok();
            let (code, message) = body.map_or_else(
                || ("unknown".to_owned(), String::new()),
                |b| (b.error.code, b.error.message),
            );
            return Err(ClientError::Api {
                status: status.as_u16(),
                code,
                message,
            });
        }
    }
}
