//! A forward proxy on 127.0.0.1, for tests of a client's proxy settings: it relays plain HTTP
//! requests (absolute-form, one per connection) and opens CONNECT tunnels, and records each one
//! with the credentials it carried. [`relay`] is the one-request relay itself, for other fronts
//! (a TLS terminator in a test) to reuse.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Largest request head read; anything longer is not a request this proxy serves.
const MAX_HEAD: usize = 64 * 1024;

/// One request the proxy received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// `GET http://127.0.0.1:1234/rest/api/2/myself`, or `CONNECT 127.0.0.1:1234`.
    pub line: String,
    /// `user:password` from a Basic `Proxy-Authorization` header.
    pub credentials: Option<String>,
}

/// A proxy listening on `127.0.0.1`; it stops accepting when this is dropped.
pub struct RunningProxy {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    seen: Arc<Mutex<Vec<ProxiedRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RunningProxy {
    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a proxy on a free port of `127.0.0.1`.
pub fn spawn_proxy() -> RunningProxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 for the proxy");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the proxy's socket address")
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("sim-proxy".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let seen = Arc::clone(&seen);
                    std::thread::spawn(move || {
                        let _ = serve(client, &seen);
                    });
                }
            })
            .expect("start the proxy thread")
    };
    RunningProxy {
        url,
        seen,
        stop,
        thread: Some(thread),
    }
}

fn serve(mut client: TcpStream, seen: &Mutex<Vec<ProxiedRequest>>) -> io::Result<()> {
    let head = Head::read(&mut client)?;
    let credentials = head
        .header("proxy-authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok());
    if let Ok(mut seen) = seen.lock() {
        seen.push(ProxiedRequest {
            line: format!("{} {}", head.method, head.target),
            credentials,
        });
    }
    if head.method == "CONNECT" {
        let upstream = TcpStream::connect(&head.target)?;
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        let mut to_upstream = upstream.try_clone()?;
        to_upstream.write_all(&head.rest)?;
        let mut from_client = client.try_clone()?;
        let forward = std::thread::spawn(move || {
            let _ = io::copy(&mut from_client, &mut to_upstream);
            let _ = to_upstream.shutdown(Shutdown::Write);
        });
        let _ = io::copy(&mut &upstream, &mut client);
        let _ = client.shutdown(Shutdown::Both);
        let _ = forward.join();
        return Ok(());
    }
    let Some(rest) = head.target.strip_prefix("http://") else {
        client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")?;
        return Ok(());
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (authority, path) = (authority.to_string(), path.to_string());
    let path = if path.is_empty() { "/" } else { &path };
    relay(&mut client, head.with_target(path), &authority)
}

/// A request head as read off the wire, and whatever came after it in the same reads.
pub struct Head {
    pub method: String,
    pub target: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// Bytes read past the head: the start of the body.
    pub rest: Vec<u8>,
}

impl Head {
    /// Reads up to the blank line that ends a request head.
    pub fn read(from: &mut impl Read) -> io::Result<Head> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if buffer.len() > MAX_HEAD {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
            }
            let n = from.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let text = String::from_utf8_lossy(&buffer[..end]).into_owned();
        let mut lines = text.split("\r\n");
        let mut words = lines.next().unwrap_or("").split(' ');
        let method = words.next().unwrap_or("").to_string();
        let target = words.next().unwrap_or("").to_string();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
            .collect();
        Ok(Head {
            method,
            target,
            headers,
            rest: buffer[end + 4..].to_vec(),
        })
    }

    /// The first value of a header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn with_target(mut self, target: &str) -> Head {
        self.target = target.to_string();
        self
    }
}

/// Sends the request `head` (its body still to be read from `client`) to `upstream`
/// (`host:port`) with `Connection: close` and no proxy headers, and copies the whole answer back.
pub fn relay(client: &mut (impl Read + Write), head: Head, upstream: &str) -> io::Result<()> {
    let length: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = head.rest.clone();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut request = format!("{} {} HTTP/1.1\r\n", head.method, head.target);
    for (name, value) in &head.headers {
        let name_lower = name.to_ascii_lowercase();
        if name_lower.starts_with("proxy-") || name_lower == "connection" {
            continue;
        }
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(upstream)?;
    // Head and body in one write: a second small write waits for the delayed ACK of the first.
    let mut request = request.into_bytes();
    request.extend_from_slice(&body);
    upstream.write_all(&request)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    client.write_all(&closing(answer))?;
    client.flush()
}

/// The answer with `Connection: close` in its head, so that the client opens a new connection
/// for its next request rather than reuse this one, which ends here.
fn closing(answer: Vec<u8>) -> Vec<u8> {
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..head_end]).to_ascii_lowercase();
    if head.contains("\r\nconnection: close") {
        return answer;
    }
    let Some(status_end) = answer.windows(2).position(|w| w == b"\r\n") else {
        return answer;
    };
    let mut closed = answer[..status_end + 2].to_vec();
    closed.extend_from_slice(b"Connection: close\r\n");
    closed.extend_from_slice(&answer[status_end + 2..]);
    closed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_head_and_keeps_the_bytes_after_it() {
        let wire = b"GET http://h:1/x HTTP/1.1\r\nHost: h:1\r\nProxy-Authorization: Basic dTpw\r\n\r\nbody";
        let head = Head::read(&mut &wire[..]).unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "http://h:1/x");
        assert_eq!(head.header("proxy-authorization"), Some("Basic dTpw"));
        assert_eq!(head.rest, b"body");
    }

    #[test]
    fn every_answer_closes_its_connection() {
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec();
        assert_eq!(
            closing(answer),
            b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok"
        );
        let closed = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
        assert_eq!(closing(closed.clone()), closed);
    }
}
