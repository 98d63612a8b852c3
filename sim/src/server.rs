//! Serving the simulator from a test: a dedicated thread with its own tokio runtime, so plain
//! `#[test]` functions can use it, shut down when the handle is dropped.

use std::net::TcpListener;
use std::thread::JoinHandle;

use axum::serve::ListenerExt;
use tokio::sync::oneshot;

use crate::{Sim, SimConfig};

/// A simulator listening on `127.0.0.1`; it stops when this is dropped.
pub struct RunningSim {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    pub sim: Sim,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// The OAuth gateway base URL for this site: `{url}/ex/jira/{CLOUD_ID}`.
    pub fn gateway_url(&self) -> String {
        format!("{}/ex/jira/{}", self.url, crate::creds::CLOUD_ID)
    }
}

/// Builds the site from `cfg`, binds `127.0.0.1:0`, and serves on a background thread.
/// Returns once the socket is listening.
pub fn spawn(cfg: SimConfig) -> RunningSim {
    let sim = Sim::new(cfg);
    let listener =
        TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 for the Jira simulator");
    listener
        .set_nonblocking(true)
        .expect("make the simulator's socket non-blocking");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("simulator socket address")
    );
    let (shutdown, stop) = oneshot::channel::<()>();
    let router = sim.router();
    let thread = std::thread::Builder::new()
        .name("jira-sim".to_string())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("start the simulator's tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .expect("adopt the simulator's socket");
                // Stop at once on drop: waiting for idle keep-alive connections could hang a test.
                tokio::select! {
                    _ = axum::serve(listener.tap_io(no_delay), router) => {}
                    _ = stop => {}
                }
            });
            runtime.shutdown_background();
        })
        .expect("start the simulator thread");
    RunningSim {
        url,
        sim,
        shutdown: Some(shutdown),
        thread: Some(thread),
    }
}

/// Sends each write at once, as Jira's Tomcat does, rather than holding a small one back until
/// the tap acknowledges the one before (up to 40 ms on Linux).
pub fn no_delay(connection: &mut tokio::net::TcpStream) {
    let _ = connection.set_nodelay(true);
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
