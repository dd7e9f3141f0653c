//! Which connections to keep: one that could not authenticate is closed
//! after its answer, so that a flood of unauthenticated clients gives its
//! connections (and file descriptors) back at once instead of holding them
//! through keep-alive, and authenticated clients find room.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;

/// Middleware: closes the connection after a 401 answer.
pub async fn close_unauthenticated(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    if res.status() == StatusCode::UNAUTHORIZED {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}
