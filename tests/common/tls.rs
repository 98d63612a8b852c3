//! An HTTPS front for the simulator that asks for a client certificate (mutual TLS), signed by
//! the test CA in `fixtures/mtls`: it ends TLS and relays each request to the simulator.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

pub const MTLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mtls");

/// A file of the mutual TLS fixtures.
pub fn mtls(name: &str) -> PathBuf {
    Path::new(MTLS).join(name)
}

/// What the front saw of one connection that completed its handshake.
#[derive(Clone, Debug)]
pub struct Handshake {
    /// Certificates the client presented (none is refused before this is recorded).
    pub client_certificates: usize,
}

pub struct TlsFront {
    /// `https://127.0.0.1:PORT`
    pub url: String,
    handshakes: Arc<Mutex<Vec<Handshake>>>,
}

impl TlsFront {
    pub fn handshakes(&self) -> Vec<Handshake> {
        self.handshakes.lock().unwrap().clone()
    }
}

/// Serves `https://127.0.0.1:PORT` in front of `upstream` (`http://host:port`), requiring a
/// client certificate the test CA signed.
pub fn mutual_tls_front(upstream: &str) -> TlsFront {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(mtls("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(mtls("server-key.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(mtls("ca.pem")).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let server = Arc::new(server);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    let handshakes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&handshakes);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (server, upstream, seen) = (Arc::clone(&server), upstream.clone(), seen.clone());
            std::thread::spawn(move || {
                let Ok(connection) = rustls::ServerConnection::new(server) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(connection, stream);
                // The head read drives the handshake; a refused client never gets past it.
                let Ok(head) = jira_sim::proxy::Head::read(&mut tls) else {
                    return;
                };
                let presented = tls.conn.peer_certificates().map_or(0, <[_]>::len);
                seen.lock().unwrap().push(Handshake {
                    client_certificates: presented,
                });
                if jira_sim::proxy::relay(&mut tls, head, &upstream).is_ok() {
                    tls.conn.send_close_notify();
                    let _ = std::io::Write::flush(&mut tls);
                }
            });
        }
    });
    TlsFront { url, handshakes }
}
