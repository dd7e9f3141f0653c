//! `roster healthcheck`: asks a running server's `/readyz` with one plain
//! HTTP/1.1 request, for container images without curl.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::config::Config;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Ok when the server answers 200; else why not.
pub fn run(config: &Config, url: Option<&str>) -> Result<(), String> {
    let url = match url {
        Some(url) => url.to_owned(),
        None => default_url(config),
    };
    let status = probe(&url)?;
    if status == 200 {
        println!("ready");
        Ok(())
    } else {
        Err(format!("{url} answered {status}"))
    }
}

/// `/readyz` on the management listener when there is one, else on the
/// main one; a wildcard bind address is probed on loopback.
fn default_url(config: &Config) -> String {
    let bind = config
        .server
        .management_bind
        .as_deref()
        .unwrap_or(&config.server.bind);
    let bind = match bind.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => bind.to_owned(),
    };
    format!("http://{bind}/readyz")
}

fn probe(url: &str) -> Result<u16, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!(
            "the probe speaks plain http; give --url http://... (got {url})"
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("no host in {url}"))?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addr = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}"))?;
    let unreachable = |e: std::io::Error| format!("cannot reach {url}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: roster-healthcheck\r\nConnection: close\r\n\r\n",
        parsed.path()
    );
    stream.write_all(request.as_bytes()).map_err(unreachable)?;
    // The status line fits in the first bytes; the body does not matter.
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < head.len() && !head[..len].contains(&b'\n') {
        match stream.read(&mut head[len..]).map_err(unreachable)? {
            0 => break,
            n => len += n,
        }
    }
    status_of(&head[..len]).ok_or_else(|| format!("{url} did not answer HTTP"))
}

fn status_of(head: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(head).ok()?;
    let mut parts = line.split(' ');
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_and_the_default_url() {
        assert_eq!(
            status_of(b"HTTP/1.1 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(status_of(b"SSH-2.0"), None);
        let mut c = Config::default();
        c.server.bind = "0.0.0.0:5000".into();
        assert_eq!(default_url(&c), "http://127.0.0.1:5000/readyz");
        c.server.management_bind = Some("127.0.0.1:9000".into());
        assert_eq!(default_url(&c), "http://127.0.0.1:9000/readyz");
    }
}
