//! The HTTP client for a profile: JSON in, JSON out, and the server's error message (which says
//! what was wrong and how to fix it) as the error.

use crate::config::Profile;
use anyhow::{anyhow, Result};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A client of one organization on one server.
pub struct Client {
    http: reqwest::Client,
    url: String,
    org: String,
    token: String,
}

/// An error the server answered with.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServerError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Client {
    /// A client for `profile`.
    pub fn new(profile: &Profile) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: profile.url.trim_end_matches('/').to_owned(),
            org: profile.org.clone(),
            token: profile.token.0.clone(),
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET /v1/{org}{path}` with `query`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        self.send(self.request(Method::GET, path).query(query)).await
    }

    /// `POST /v1/{org}{path}` with a JSON body.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// `PATCH /v1/{org}{path}` with a JSON body.
    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.send(self.request(Method::PATCH, path).json(body)).await
    }

    /// `DELETE /v1/{org}{path}`.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::DELETE, path)).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}/v1/{}{path}", self.url, self.org)).bearer_auth(&self.token)
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = req
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the Grantry server at {} ({e}); is `grantry serve` running there?", self.url))?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| anyhow!("the server at {} sent a response that is not JSON ({e})", self.url))?;
        if status.is_success() {
            return serde_json::from_value(body).map_err(|e| anyhow!("unexpected response from the server ({e})"));
        }
        let field = |k: &str| body.pointer(&format!("/error/{k}")).and_then(Value::as_str).unwrap_or_default().to_owned();
        let message = match field("message") {
            m if m.is_empty() => format!("the server answered {status}"),
            m => m,
        };
        Err(ServerError { status: status.as_u16(), code: field("code"), message }.into())
    }
}
