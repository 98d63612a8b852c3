//! tap-jira: a Singer tap for Jira Cloud, Server and Data Center.
//!
//! `run` is the whole program: arguments in, Singer messages out, an error to report otherwise.

pub mod about;
pub mod adf;
pub mod authorize;
pub mod catalog;
pub mod cli;
pub mod client;
pub mod compact;
pub mod config;
pub mod error;
pub mod filters;
pub mod flatten;
pub mod hashing;
pub mod id_runs;
pub mod input;
pub mod jql;
pub mod logging;
pub mod metrics;
pub mod pipe;
pub mod raw;
pub mod readable;
pub mod scan;
pub mod secret;
pub mod signals;
pub mod singer;
pub mod streams;
pub mod surrogates;
pub mod sync;
pub mod timestamp;

use std::io::Write;

use crate::catalog::{Catalog, SiteFields};
use crate::cli::Cli;
use crate::client::JiraClient;
use crate::config::{Config, RawConfig};
use crate::error::{Error, Result};
use crate::singer::SingerWriter;
use crate::sync::State;

/// Runs discover or sync, writing Singer messages to `out`. Every input file is read and checked
/// before the first request.
pub async fn run(cli: &Cli, out: impl Write) -> Result<()> {
    if cli.config.is_empty() {
        return Err(Error::config(
            "--config",
            "no config file given",
            "run `tap-jira --config config.json --discover`; see README.md for the keys",
        ));
    }
    let raw = RawConfig::load(&cli.config)?;
    secret::register_config(&raw);
    for name in client::PROXY_VARIABLES {
        if let Some(url) = std::env::var(name).ok().and_then(|v| client::proxy_url(&v)) {
            secret::register_url_credentials(&url);
        }
    }
    for key in raw.unknown_keys() {
        tracing::warn!(
            key,
            "config key is not a tap-jira setting; ignored (see `tap-jira --about`)"
        );
    }
    let config = Config::from_raw(&raw)?;
    // Discovery reads no catalog, as it reads no state.
    let catalog = match cli.discover {
        false => match cli.catalog_path().map_err(Error::Catalog)? {
            Some(path) => Some(Catalog::load(path)?),
            None => None,
        },
        true => None,
    };
    // Runners pass `--state` to every invocation; discovery reads no bookmarks, so a state it
    // cannot read must not stop it.
    let state = match &cli.state {
        Some(path) if !cli.discover => State::load(path)?,
        _ => State::default(),
    };
    // A broken bookmark should stop the run before it syncs anything, not halfway.
    sync::check_state(&state, config.start_date, config.deleted_issues)?;
    if let Some(catalog) = &catalog {
        catalog::check_hashing(catalog, &config.hashing)?;
    }

    if let config::Auth::OAuth(oauth) = &config.auth
        && let Some(file) = &oauth.refresh_token_file
    {
        client::check_token_file_writable(file.path())?;
    }
    let reads_fields = cli.discover || catalog.as_ref().is_none_or(catalog::compares_fields);
    let (client, fields) = connect(&config, reads_fields).await?;
    let mut writer = SingerWriter::new(out);
    let outcome = match catalog {
        _ if cli.discover => discover(&client, &config, fields, &mut writer).await,
        Some(mut catalog) => {
            catalog::reconcile(
                &client,
                &mut catalog,
                config.schema_drift,
                config.custom_field_names,
                fields,
            )
            .await?;
            sync(&client, &config, catalog, state, &mut writer).await
        }
        None => {
            tracing::info!(
                "no catalog given: discovering, then syncing every stream selected by default"
            );
            let catalog = catalog::discover(&client, config.custom_field_names, fields).await?;
            sync(&client, &config, catalog, state, &mut writer).await
        }
    };
    log_requests(&client);
    outcome
}

/// Connects to the site, and reads its fields when the run needs them: beside `/myself` where a
/// refused request costs nothing (one round trip less a run), after it where it counts as a
/// failed login.
async fn connect(config: &Config, reads_fields: bool) -> Result<(JiraClient, SiteFields)> {
    let mut client = JiraClient::open(config).await?;
    let fields = if reads_fields && client.may_ask_before_proven() {
        let (myself, fields) = tokio::join!(client.ask_myself(), SiteFields::read(&client));
        // Refused credentials are told as /myself's refusal, whatever /field got.
        client.proved(myself?);
        fields
    } else {
        let myself = client.ask_myself().await?;
        client.proved(myself);
        SiteFields::unread()
    };
    Ok((client, fields))
}

async fn discover(
    client: &JiraClient,
    config: &Config,
    fields: SiteFields,
    writer: &mut SingerWriter<impl Write>,
) -> Result<()> {
    let catalog = catalog::discover(client, config.custom_field_names, fields).await?;
    writer.write_document(&catalog)?;
    writer.flush()
}

async fn sync(
    client: &JiraClient,
    config: &Config,
    catalog: Catalog,
    state: State,
    writer: &mut SingerWriter<impl Write>,
) -> Result<()> {
    // Reports progress while the sync runs, and the last counts when it ends, however it ends.
    let _progress = metrics::Reporter::start(config.progress_interval);
    let summary = sync::run(client, config, catalog, state, writer).await?;
    for (stream, records) in &summary.records {
        tracing::info!(stream, records, "records emitted");
    }
    if !summary.skipped.is_empty() {
        let names: Vec<&str> = summary.skipped.iter().map(|(name, _)| *name).collect();
        tracing::warn!(
            streams = names.join(", "),
            "streams skipped (the warnings above say why)"
        );
    }
    for (stream, objects) in &summary.refused {
        tracing::warn!(
            stream,
            objects,
            "parent objects whose children Jira refused (see the warnings above)"
        );
    }
    for (stream, objects) in &summary.childless {
        tracing::info!(
            stream,
            objects,
            "parent objects of a kind without these children (a kanban board has no sprints)"
        );
    }
    Ok(())
}

fn log_requests(client: &JiraClient) {
    for (endpoint, stats) in client.stats() {
        tracing::info!(
            endpoint,
            requests = stats.requests,
            retried = stats.retries,
            seconds = format!("{:.2}", stats.total_time.as_secs_f64()),
            "requests"
        );
    }
    tracing::info!(
        peak = client.peak_in_flight(),
        on_average = format!("{:.1}", client.mean_in_flight()),
        "most requests in flight at once"
    );
}
