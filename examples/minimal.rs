//! Run with
//!
//! ```not_rust
//! cargo run --example minimal
//! ```
//!
//! tower only: `ServiceBuilder` + `service_fn` + `JwtAuthLayer`, called in-process (no server,
//! no framework). Prints the status and body for no token, a valid token and a garbage token.

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{Request, Response, header::AUTHORIZATION};
use http_body_util::BodyExt;
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
use tower_jwt_auth::{Claims, JwtAuthLayer, Keys, ResponseBody, SimpleJwtClaims};

/// The handler: the layer only calls it with verified claims in the extensions.
async fn hello(req: Request<String>) -> Result<Response<String>, Infallible> {
    let claims = req.extensions().get::<Claims<SimpleJwtClaims>>();
    let user = claims.map_or("?", |c| c.user_id.as_str());
    Ok(Response::new(format!("hello, user {user}")))
}

/// `JwtAuthLayer` in front of `hello`.
pub(crate) fn app(
    keys: Keys,
) -> impl Service<Request<String>, Response = Response<ResponseBody<String>>, Error = Infallible> + Clone
{
    let auth = JwtAuthLayer::<SimpleJwtClaims>::new(keys);
    ServiceBuilder::new().layer(auth).service(service_fn(hello))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = Keys::hs256(b"minimal-example-secret-of-at-least-32-bytes")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let token = keys.encode(&serde_json::json!({
        "token_type": "access", "exp": now + 300, "iat": now,
        "jti": "8a3f2c1d4e5b6a7988776655443322aa", "user_id": "1",
    }))?;
    let app = app(keys);
    for auth in [
        None,
        Some(format!("Bearer {token}")),
        Some("Bearer garbage".into()),
    ] {
        let mut req = Request::new(String::new());
        if let Some(value) = auth {
            req.headers_mut().insert(AUTHORIZATION, value.parse()?);
        }
        let res = app.clone().oneshot(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        println!("{status} {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}
