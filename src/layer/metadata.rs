//! RFC 9728 OAuth 2.0 Protected Resource Metadata: the document a resource server serves at
//! `/.well-known/oauth-protected-resource`, naming its identifier, the authorization servers whose
//! tokens it accepts and the scopes it knows.
//!
//! ```
//! use tower_jwt_auth::layer::ProtectedResourceMetadata;
//!
//! let meta = ProtectedResourceMetadata::new("https://api.example.com")
//!     .authorization_server("https://idp.example.com")
//!     .scopes(["schedule:read", "schedule:write"]);
//! let doc = meta.to_json();
//! assert_eq!(doc["resource"], "https://api.example.com");
//! assert_eq!(doc["bearer_methods_supported"][0], "header");
//! // A tower service answering GET with the document (mount it at `meta.well_known_path()`).
//! let svc = meta.service();
//! # let _ = svc;
//! ```

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};
use tower_service::Service;

use super::body::ResponseBody;

/// An RFC 9728 metadata document. Build it, then serve it with [`service`](Self::service).
#[derive(Clone, Debug)]
#[must_use]
pub struct ProtectedResourceMetadata {
    resource: String,
    authorization_servers: Vec<String>,
    scopes: Vec<String>,
    name: Option<String>,
}

impl ProtectedResourceMetadata {
    /// The document for the resource identified by `resource` (an `https` URL, RFC 9728 §2).
    pub fn new(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes: Vec::new(),
            name: None,
        }
    }

    /// Adds an authorization server (its issuer identifier) whose tokens the resource accepts.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes the resource uses in authorization requests (`scopes_supported`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A human-readable name (`resource_name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The path to serve it at: `/.well-known/oauth-protected-resource` plus the resource
    /// identifier's path, if any (RFC 9728 §3.1).
    pub fn well_known_path(&self) -> String {
        let path = self
            .resource
            .parse::<http::Uri>()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        format!("/.well-known/oauth-protected-resource{path}")
    }

    /// The JSON document. Bearer tokens are accepted in the `Authorization` header only.
    pub fn to_json(&self) -> Value {
        let mut doc = json!({
            "resource": self.resource,
            "bearer_methods_supported": ["header"],
        });
        if !self.authorization_servers.is_empty() {
            doc["authorization_servers"] = json!(self.authorization_servers);
        }
        if !self.scopes.is_empty() {
            doc["scopes_supported"] = json!(self.scopes);
        }
        if let Some(name) = &self.name {
            doc["resource_name"] = json!(name);
        }
        doc
    }

    /// A tower service answering `GET`/`HEAD` with the document (`application/json`), 405
    /// otherwise.
    pub fn service(&self) -> MetadataService {
        MetadataService {
            body: Bytes::from(self.to_json().to_string()),
        }
    }
}

/// The service of [`ProtectedResourceMetadata::service`].
#[derive(Clone, Debug)]
pub struct MetadataService {
    body: Bytes,
}

impl<B> Service<Request<B>> for MetadataService {
    type Response = Response<ResponseBody<String>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut res = if req.method() == Method::GET || req.method() == Method::HEAD {
            let mut r = Response::new(ResponseBody::full(self.body.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            r
        } else {
            let mut r = Response::new(ResponseBody::full(Bytes::from_static(
                br#"{"detail":"Method not allowed."}"#,
            )));
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            r.headers_mut()
                .insert(header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
            r
        };
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=3600"),
        );
        ready(Ok(res))
    }
}
