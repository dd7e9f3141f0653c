//! Reading a request body under its limits.
//!
//! The size limit counts the bytes a handler will hold: for a gzip or
//! deflate body, the inflated bytes, checked as they come out of the
//! decoder, so that a small compressed body never grows past the limit in
//! memory. A body must arrive within a deadline (a client that trickles it
//! holds a connection and a buffer), and only so many large bodies are
//! read at once, so that memory stays bounded by their count times the
//! limit.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use actix_web::web::Bytes;
use flate2::write::{GzDecoder, ZlibDecoder};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::ServerConfig;
use crate::scim::ScimError;

/// How long a large body waits for another to finish before 503.
const LARGE_BODY_WAIT: Duration = Duration::from_secs(2);

/// The limits shared by every request of one server.
#[derive(Clone)]
pub struct BodyLimits {
    deadline: Duration,
    large_bytes: usize,
    large: Arc<Semaphore>,
}

impl BodyLimits {
    pub fn new(config: &ServerConfig) -> Self {
        Self {
            deadline: Duration::from_millis(config.body_timeout_ms),
            large_bytes: config.large_body_bytes,
            large: Arc::new(Semaphore::new(config.max_large_bodies)),
        }
    }

    /// How long a request's body may take to arrive.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// A permit for a body that may be large, or 503 when too many are
    /// being read.
    async fn admit(&self) -> Result<OwnedSemaphorePermit, ScimError> {
        tokio::time::timeout(LARGE_BODY_WAIT, self.large.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| ScimError::unavailable("too many large request bodies are being read"))
    }
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self::new(&ServerConfig::default())
    }
}

/// How the body is encoded (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Deflate,
}

fn coding(req: &HttpRequest) -> Result<Coding, ScimError> {
    let Some(value) = req.headers().get(CONTENT_ENCODING) else {
        return Ok(Coding::Identity);
    };
    let value = value
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match value.as_str() {
        "" | "identity" => Ok(Coding::Identity),
        "gzip" | "x-gzip" => Ok(Coding::Gzip),
        "deflate" => Ok(Coding::Deflate),
        other => Err(ScimError::unsupported_media_type(format!(
            "unsupported content encoding {other:?}; send gzip, deflate or none"
        ))),
    }
}

fn too_large(limit: usize) -> ScimError {
    ScimError::too_large(format!("the request body exceeds {limit} bytes"))
}

/// The whole body, decoded, at most `limit` bytes.
pub async fn read(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, ScimError> {
    let coding = coding(req)?;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if coding == Coding::Identity && declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let limits = req.app_data::<BodyLimits>().cloned().unwrap_or_default();
    let small = coding == Coding::Identity && declared.is_some_and(|n| n <= limits.large_bytes);
    let _permit = if small {
        None
    } else {
        Some(limits.admit().await?)
    };
    let mut sink = Sink::new(coding, limit);
    let deadline = tokio::time::Instant::now() + limits.deadline;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) => {
                return Err(ScimError::new(
                    408,
                    None,
                    "the request body did not arrive in time",
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ScimError::invalid_syntax(format!(
                    "the request body could not be read: {e}"
                )));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        sink.write(&chunk)?;
    }
    sink.finish()
}

/// Where the body's bytes go: straight into the buffer, or through a
/// decoder that writes into it.
enum Sink {
    Plain(Bounded),
    Gzip(Box<GzDecoder<Bounded>>),
    Deflate(Box<ZlibDecoder<Bounded>>),
}

impl Sink {
    fn new(coding: Coding, limit: usize) -> Self {
        let buf = Bounded {
            buf: Vec::new(),
            limit,
            overflowed: false,
        };
        match coding {
            Coding::Identity => Self::Plain(buf),
            Coding::Gzip => Self::Gzip(Box::new(GzDecoder::new(buf))),
            Coding::Deflate => Self::Deflate(Box::new(ZlibDecoder::new(buf))),
        }
    }

    fn bounded(&self) -> &Bounded {
        match self {
            Self::Plain(b) => b,
            Self::Gzip(d) => d.get_ref(),
            Self::Deflate(d) => d.get_ref(),
        }
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), ScimError> {
        let written = match self {
            Self::Plain(b) => b.write_all(chunk),
            Self::Gzip(d) => d.write_all(chunk),
            Self::Deflate(d) => d.write_all(chunk),
        };
        written.map_err(|e| self.failure(&e))
    }

    fn finish(self) -> Result<Bytes, ScimError> {
        let done = match self {
            Self::Plain(b) => Ok(b),
            Self::Gzip(d) => d.finish(),
            Self::Deflate(d) => d.finish(),
        };
        match done {
            Ok(b) if b.overflowed => Err(too_large(b.limit)),
            Ok(b) => Ok(Bytes::from(b.buf)),
            Err(e) => Err(ScimError::invalid_syntax(format!(
                "the compressed request body is corrupt: {e}"
            ))),
        }
    }

    fn failure(&self, e: &io::Error) -> ScimError {
        let bounded = self.bounded();
        if bounded.overflowed {
            too_large(bounded.limit)
        } else {
            ScimError::invalid_syntax(format!("the compressed request body is corrupt: {e}"))
        }
    }
}

/// A buffer that refuses to grow past its limit.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl Write for Bounded {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            self.overflowed = true;
            return Err(io::Error::other("the body limit is reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("write");
        enc.finish().expect("finish")
    }

    #[test]
    fn a_gzip_body_inflates_within_the_limit() {
        let mut sink = Sink::new(Coding::Gzip, 100);
        sink.write(&gzip(b"{\"a\":1}")).expect("fits");
        assert_eq!(&sink.finish().expect("done")[..], b"{\"a\":1}");
    }

    #[test]
    fn an_inflated_body_past_the_limit_is_too_large_and_stops_growing() {
        let bomb = gzip(&vec![0u8; 8 * 1024 * 1024]);
        let mut sink = Sink::new(Coding::Gzip, 1024 * 1024);
        let err = sink.write(&bomb).expect_err("over the limit");
        assert_eq!(err.status, 413);
        assert!(sink.bounded().buf.len() <= 1024 * 1024);
    }

    #[test]
    fn a_corrupt_gzip_body_is_a_syntax_error() {
        let mut sink = Sink::new(Coding::Gzip, 1024);
        let mut body = gzip(b"{\"a\":1}");
        body.truncate(body.len() - 4);
        let result = sink.write(&body).and_then(|()| sink.finish().map(drop));
        assert_eq!(result.expect_err("corrupt").status, 400);
    }
}
