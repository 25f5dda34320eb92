//! Django REST framework compatibility: everything that makes this server answer byte for byte
//! like the Django + simplejwt app it replaces, gathered here so the rest of the example reads
//! as a plain axum app. An app without Django clients can drop this file and use axum's `Json`,
//! `StatusCode` and default 404/405 answers instead.
//!
//! - [`json`] and [`detail`]: DRF's `JSONRenderer` (compact, `application/json` without a
//!   charset, U+2028/U+2029 escaped) and its `{"detail": "..."}` error shape;
//! - [`read_body`]: DRF's parsers for the view (JSON, form, empty body = `{}`, else 415);
//! - [`error_bodies`]: DRF-shaped JSON bodies for the statuses tower-http's layers answer by
//!   themselves (408 from the timeout, 413 from the body limit) or that a handler answers bare;
//! - [`method_not_allowed`], [`append_slash_or_not_found`]: DRF's 405 and Django's
//!   `APPEND_SLASH` 301 / 404;
//! - [`view_metadata`]: DRF's `OPTIONS` answer;
//! - [`panic_response`]: Django's JSON 500, without the panic's payload.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Json;

/// Compact JSON, `Content-Type: application/json` (no charset), like DRF's `JSONRenderer`
/// (which also escapes U+2028 and U+2029).
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let text = match serde_json::to_string(body) {
        Ok(t) => t
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut res = Response::new(Body::from(text));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// `{"detail": "..."}`.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "detail": message }))
}

/// DRF's 405, with the view's `Allow` header.
pub(crate) fn method_not_allowed(method: &Method, allow: &'static str) -> Response {
    let mut res = detail(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

/// Gives the bare 408 of tower-http's `TimeoutLayer` and the 413 of its `RequestBodyLimitLayer`
/// (plain text), or of a handler whose body read hit the limit (empty), the JSON bodies Django
/// gives them. Responses that already are JSON pass untouched.
pub(crate) fn error_bodies<B>(
    body_limit: usize,
) -> impl Fn(axum::http::Response<B>) -> Response + Clone
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    move |res: axum::http::Response<B>| {
        let res = res.map(Body::new);
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        match res.status() {
            _ if is_json => res,
            StatusCode::REQUEST_TIMEOUT => {
                detail(StatusCode::REQUEST_TIMEOUT, "Request timed out.")
            }
            StatusCode::PAYLOAD_TOO_LARGE => detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Request body is too large (the limit is {body_limit} bytes)."),
            ),
            _ => res,
        }
    }
}

/// Reads a body as DRF's parsers would for this view: an empty body is `{}`; JSON (including the
/// wildcards `*/*` and `application/*`, which DRF's media-type match lets through) is parsed; a
/// form body gives string fields; anything else is a 415. Django's development server reports
/// a missing `Content-Type` as `text/plain`, and so does this.
///
/// The size limit is `RequestBodyLimitLayer`'s: a body over it is a bare 413 here, which
/// [`error_bodies`] words.
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Json, Response> {
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return Err(body_error(&e)),
    };
    if bytes.is_empty() {
        return Ok(Json::Object(Vec::new()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_else(|| "text/plain".to_owned());
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (main, sub) = media.split_once('/').unwrap_or((&media, ""));
    let is = |m: &str, s: &str| (main == m || main == "*") && (sub == s || sub == "*");
    if is("application", "json") {
        serde_json::from_slice::<Json>(&bytes)
            .map_err(|e| detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}")))
    } else if is("application", "x-www-form-urlencoded") {
        // Last value wins, as with Django's QueryDict.
        let mut fields: Vec<(String, Json)> = Vec::new();
        for (k, v) in form_urlencoded::parse(&bytes) {
            let v = Json::String(v.into_owned());
            match fields.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => fields.push((k.into_owned(), v)),
            }
        }
        Ok(Json::Object(fields))
    } else {
        Err(detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported media type \"{content_type}\" in request."),
        ))
    }
}

/// A body that could not be read: over the limit (a bare 413, see [`error_bodies`]) or broken
/// (400).
fn body_error(e: &(dyn std::error::Error + 'static)) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        source = err.source();
    }
    detail(
        StatusCode::BAD_REQUEST,
        "The request body could not be read.",
    )
}

/// DRF's `OPTIONS` answer for a view: its name, description and media types.
pub(crate) fn view_metadata(name: &'static str, description: &'static str) -> Response {
    #[derive(Serialize)]
    struct Metadata {
        name: &'static str,
        description: &'static str,
        renders: [&'static str; 1],
        parses: [&'static str; 2],
    }
    json(
        StatusCode::OK,
        &Metadata {
            name,
            description,
            renders: ["application/json"],
            parses: ["application/json", "application/x-www-form-urlencoded"],
        },
    )
}

/// Unknown paths: Django's `APPEND_SLASH` 301 when the path plus `/` is one of `slashed`' routes,
/// else DRF's 404.
pub(crate) fn append_slash_or_not_found(req: &Request, slashed: &[&str]) -> Response {
    let path = req.uri().path();
    if slashed
        .iter()
        .any(|route| route.strip_suffix('/') == Some(path))
    {
        let location = match req.uri().query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        if let Ok(v) = HeaderValue::from_str(&location) {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
            let h = res.headers_mut();
            h.insert(header::LOCATION, v);
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return res;
        }
    }
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// What tower-http's `CatchPanicLayer` answers: Django's JSON 500. The panic's payload may hold
/// request data: it is neither logged nor echoed.
pub(crate) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "A server error occurred.",
    )
}
