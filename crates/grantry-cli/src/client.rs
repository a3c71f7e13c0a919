//! The HTTP client for a profile: JSON in, JSON out, and the server's error message (which says
//! what was wrong and how to fix it) as the error.

use crate::config::Profile;
use crate::exit::UsageError;
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
    /// A client for `profile`: HTTPS trusts the system's certificate authorities, and those in the
    /// profile's `ca_cert` file.
    pub fn new(profile: &Profile) -> Result<Self> {
        let mut http = reqwest::Client::builder().use_rustls_tls().connect_timeout(std::time::Duration::from_secs(10));
        if let Some(path) = &profile.ca_cert {
            for cert in read_ca_bundle(path)? {
                http = http.add_root_certificate(cert);
            }
        }
        Ok(Self {
            http: http.build().map_err(|e| anyhow!("cannot set up HTTPS ({e})"))?,
            url: profile.url.trim_end_matches('/').to_owned(),
            org: profile.org.clone(),
            token: profile.token.0.clone(),
        })
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

    /// `POST /v1/{org}{path}` with a JSON body already serialized, sent as a stream (a large import
    /// whose progress is shown).
    pub async fn post_stream<T: DeserializeOwned>(&self, path: &str, body: reqwest::Body) -> Result<T> {
        self.send(self.request(Method::POST, path).header(reqwest::header::CONTENT_TYPE, "application/json").body(body)).await
    }

    /// `PATCH /v1/{org}{path}` with a JSON body.
    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.send(self.request(Method::PATCH, path).json(body)).await
    }

    /// `DELETE /v1/{org}{path}`.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.delete_with(path, &[]).await
    }

    /// `DELETE /v1/{org}{path}` with `query`.
    pub async fn delete_with<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        self.send(self.request(Method::DELETE, path).query(query)).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}/v1/{}{path}", self.url, self.org)).bearer_auth(&self.token)
    }

    /// `GET /v1/{org}{path}` with `query`, the answer's bytes as they are (a CSV or XLSX report).
    pub async fn get_bytes(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<u8>> {
        let resp = self.answer(self.request(Method::GET, path).query(query)).await?;
        Ok(resp.bytes().await.map_err(|e| anyhow!("the server at {} broke off its answer ({e})", self.url))?.to_vec())
    }

    /// `req` sent, and its answer if it is a success; otherwise the server's error.
    async fn answer(&self, req: RequestBuilder) -> Result<reqwest::Response> {
        let resp = req.send().await.map_err(|e| {
            let why = error_chain(&e);
            let hint = if why.contains("certificate") {
                "if a private authority signed the server's certificate, trust it with `grantry login … --ca-cert FILE`"
            } else {
                "is `grantry serve` running there?"
            };
            anyhow!("cannot reach the Grantry server at {} ({why}); {hint}", self.url)
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let field = |k: &str| body.pointer(&format!("/error/{k}")).and_then(Value::as_str).unwrap_or_default().to_owned();
        let message = match field("message") {
            m if m.is_empty() => format!("the server answered {status}"),
            m => m,
        };
        Err(ServerError { status: status.as_u16(), code: field("code"), message }.into())
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = self.answer(req).await?;
        let body: Value = resp.json().await.map_err(|e| anyhow!("the server at {} sent a response that is not JSON ({e})", self.url))?;
        serde_json::from_value(body).map_err(|e| anyhow!("unexpected response from the server ({e})"))
    }
}

/// The certificates in a PEM file of certificate authorities.
pub fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let bad = |why: String| {
        UsageError(format!("the certificate authorities file {} (--ca-cert): {why}; give a PEM file of certificates", path.display()))
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("it holds no certificate".to_owned()).into());
    }
    Ok(certs)
}

/// An error and its causes, innermost last: reqwest's own message says only that sending failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
