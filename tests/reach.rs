//! Failing to reach the site: what will not change on a retry fails at once, with what to check.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::tap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");

/// Runs `--discover` with `config`; its exit code, stderr and how long it took.
fn discover(config: Value) -> (i32, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let started = Instant::now();
    let run = tap(&[&"--config", &path, &"--discover"]);
    (run.code, run.stderr, started.elapsed())
}

fn config(base_url: &str) -> Value {
    json!({"base_url": base_url, "email": "me@example.com", "api_token": "SECRET-TOKEN-9",
           "deployment": "cloud"})
}

/// The last line of stderr: the one clear error.
fn last_line(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or("")
}

#[test]
fn a_refused_port_or_an_unknown_host_fails_at_once_saying_what_to_check() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for (base_url, says) in [
        (
            format!("https://127.0.0.1:{port}"),
            "check the host and port",
        ),
        ("https://jira.invalid".to_string(), "does not resolve"),
    ] {
        let (code, stderr, took) = discover(config(&base_url));
        assert_ne!(code, 0);
        assert!(took < Duration::from_secs(10), "{base_url}: {took:?}");
        assert!(last_line(&stderr).contains(says), "{base_url}: {stderr}");
        assert!(!stderr.contains("retrying"), "{base_url}: not retried");
        assert!(!stderr.contains("SECRET-TOKEN-9"));
    }
}

/// A TLS server on 127.0.0.1 with a self-signed certificate, answering 401 to every request.
fn tls_site() -> String {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(Path::new(FIXTURES).join("cert.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file(Path::new(FIXTURES).join("key.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let server = Arc::new(server);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                let Ok(connection) = rustls::ServerConnection::new(server) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut request = [0u8; 4096];
                if tls.read(&mut request).is_ok() {
                    let body = r#"{"errorMessages":["Client must be authenticated"]}"#;
                    let _ = write!(
                        tls,
                        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.flush();
                }
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[test]
fn a_certificate_that_does_not_verify_fails_at_once_naming_ca_bundle_which_fixes_it() {
    let base_url = tls_site();
    let (code, stderr, took) = discover(config(&base_url));
    assert_ne!(code, 0);
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(last_line(&stderr).contains("ca_bundle"), "{stderr}");
    assert!(!stderr.contains("retrying"), "not retried: {stderr}");

    // With the CA that signed it, the connection is made and Jira's own answer comes through.
    let mut trusted = config(&base_url);
    trusted["ca_bundle"] = json!(format!("{FIXTURES}/ca.pem"));
    let (code, stderr, _) = discover(trusted);
    assert_ne!(code, 0);
    assert!(
        last_line(&stderr).contains("authentication failed"),
        "{stderr}"
    );
}

#[test]
fn a_body_cut_once_is_retried_and_the_same_invalid_body_twice_fails_at_once() {
    use common::{Site, assert_valid_singer_output};
    use jira_sim::Fault;
    let invalid = |times| Fault {
        path_contains: "/search/jql".into(),
        status: 200,
        body: r#"{"issues": [{"id": "10001", "fields": {"updated": 1e999999}}"#.into(),
        content_type: "application/json".into(),
        headers: vec![],
        times,
    };
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file("catalog.json", &site.discover(&config));

    site.sim.sim.push_fault(invalid(1));
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());

    site.sim.sim.push_fault(invalid(50));
    let started = Instant::now();
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    assert_ne!(run.code, 0);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("the same invalid body twice")),
        "{}",
        run.stderr
    );
}
