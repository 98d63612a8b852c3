//! What the simulator's HTTP tests share: a client, and a GET with the deployment's credentials.
#![allow(dead_code)]

use jira_sim::{Deployment, RunningSim, creds};
use reqwest::blocking::{Client, Response};

pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

/// GET with the deployment's credentials.
pub fn send(sim: &RunningSim, path: &str) -> Response {
    let request = client().get(format!("{}{path}", sim.url));
    match sim.sim.config().deployment {
        Deployment::Cloud => request.basic_auth(creds::EMAIL, Some(creds::API_TOKEN)),
        Deployment::Server => request.basic_auth(creds::USERNAME, Some(creds::PASSWORD)),
    }
    .send()
    .unwrap()
}
