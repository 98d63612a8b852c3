//! `tap-jira authorize`: the one-time OAuth 2.0 authorisation that gives the tap its first refresh
//! token, for Cloud's 3LO apps and Data Center's incoming links. It prints the address to open,
//! reads back the code the browser's redirect carries, exchanges it, and saves the refresh token
//! where runs read it (and on Cloud the site's cloud id beside it). Nothing goes to stdout.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;

use rand::RngExt;
use url::Url;

use crate::client::{self, AccessibleSite};
use crate::config::{Authorization, OAuthProvider, RawConfig, TokenFile};
use crate::error::{Error, Result};
use crate::logging::write_line;
use crate::secret::{self, Secret};

/// Runs the authorisation with the config files in `paths`; the code is read from stdin.
pub async fn run(paths: &[PathBuf]) -> Result<()> {
    if paths.is_empty() {
        return Err(Error::config(
            "--config",
            "no config file given",
            "run `tap-jira authorize --config config.json`; the refresh token is saved there",
        ));
    }
    let raw = RawConfig::load(paths)?;
    secret::register_config(&raw);
    let app = Authorization::from_raw(&raw)?;
    // The code is spent by the exchange: make sure the token it buys can be kept.
    client::check_token_file_writable(app.token_file.path())?;
    let http = client::http_client(&app.network, &app.client.token_url)?;

    let state = random_state();
    let link = authorize_link(&app, &state);
    write_line(&format!(
        "Open this address in a browser, sign in and allow access:\n\n  {link}\n\n\
         The browser is then sent to {} with a code. Paste that whole address (or the code \
         alone) here and press Enter:",
        app.redirect_uri
    ));
    let answer = tokio::task::spawn_blocking(read_answer)
        .await
        .map_err(|e| Error::Internal(format!("reading stdin stopped: {e}")))??;
    let code = code_from(&answer, &state)?;
    secret::register(&code);

    let tokens =
        client::exchange_code(&http, &app.client, &code, app.redirect_uri.as_str()).await?;
    let Some(refresh_token) = tokens.refresh_token else {
        return Err(Error::Authorize(match app.client.provider {
            OAuthProvider::Atlassian => {
                "no refresh token came back: add the offline_access scope to oauth_scopes (and \
                 to the app), then run `tap-jira authorize` again"
                    .into()
            }
            OAuthProvider::DataCenter => "no refresh token came back from Data Center".into(),
        }));
    };
    let cloud_id = match &app.find_cloud_id {
        Some(gateway) => {
            let sites = client::accessible_sites(&http, gateway, &tokens.access_token).await?;
            Some(one_site(&sites)?)
        }
        None => None,
    };
    save(&app.token_file, &refresh_token, cloud_id.as_ref())
}

/// Where the person allows access: the client, the callback, the scopes and a fresh `state`.
fn authorize_link(app: &Authorization, state: &str) -> Url {
    let mut link = app.authorize_url.clone();
    {
        let mut query = link.query_pairs_mut();
        if app.client.provider == OAuthProvider::Atlassian {
            query.append_pair("audience", "api.atlassian.com");
        }
        query
            .append_pair("client_id", &app.client.client_id)
            .append_pair("scope", &app.scopes)
            .append_pair("redirect_uri", app.redirect_uri.as_str())
            .append_pair("state", state)
            .append_pair("response_type", "code");
        if app.client.provider == OAuthProvider::Atlassian {
            // Without it a second authorisation may come back without a refresh token.
            query.append_pair("prompt", "consent");
        }
    }
    link
}

/// A value the redirect must carry back, so an address from another attempt is not taken.
fn random_state() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// One line from stdin: what the person pasted.
fn read_answer() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Authorize(format!("could not read the code from stdin: {e}")))?;
    Ok(line)
}

/// The code, from the address the browser was sent to or as pasted alone.
fn code_from(answer: &str, state: &str) -> Result<String> {
    let answer = answer.trim();
    let fail = |why: &str| Error::Authorize(why.to_string());
    if answer.is_empty() {
        return Err(fail(
            "no code was given: paste the address the browser was sent to (or its code) on stdin",
        ));
    }
    let Ok(address) = Url::parse(answer) else {
        if answer.contains(char::is_whitespace) {
            return Err(fail(
                "that is not a code: paste the address the browser was sent to",
            ));
        }
        return Ok(answer.to_string());
    };
    let params: HashMap<String, String> = address.query_pairs().into_owned().collect();
    if let Some(error) = params.get("error") {
        let detail = params.get("error_description").map_or("", String::as_str);
        return Err(Error::Authorize(format!(
            "access was not granted ({error}: {detail}); run `tap-jira authorize` again and allow it"
        )));
    }
    if params.get("state").is_some_and(|s| s != state) {
        return Err(fail(
            "that address comes from another attempt (its state does not match): open the \
             address printed above and paste where it leads",
        ));
    }
    params.get("code").cloned().ok_or_else(|| {
        fail(
            "that address has no code: paste the one the browser was sent to after allowing access",
        )
    })
}

/// The cloud id of the one site the token reaches.
fn one_site(sites: &[AccessibleSite]) -> Result<String> {
    match sites {
        [site] => Ok(site.cloud_id.clone()),
        [] => Err(Error::Authorize(
            "the token reaches no Jira site: check the app's scopes and that it was allowed on a site"
                .into(),
        )),
        several => Err(Error::Authorize(format!(
            "the token reaches several sites; set cloud_id to one of them and run `tap-jira \
             authorize` again: {}",
            several
                .iter()
                .map(|site| format!("{} ({})", site.cloud_id, site.url))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Saves the refresh token; the cloud id goes into the config file, or is printed when the token
/// lives in a file of its own (the config is then someone else's to write, as Meltano's).
fn save(file: &TokenFile, refresh_token: &Secret, cloud_id: Option<&String>) -> Result<()> {
    let mut keys = vec![("refresh_token", refresh_token.expose())];
    if let (TokenFile::Config(_), Some(id)) = (file, cloud_id) {
        keys.push(("cloud_id", id.as_str()));
    }
    client::save_keys(file, &keys)?;
    let saved = match (file, cloud_id) {
        (TokenFile::Config(_), Some(id)) => format!("the refresh token and cloud_id {id}"),
        _ => "the refresh token".to_string(),
    };
    write_line(&format!(
        "Authorized: {saved} saved to {}. Runs read it from there, and keep it current as it rotates.",
        file.path().display()
    ));
    if let (TokenFile::Own(_), Some(id)) = (file, cloud_id) {
        write_line(&format!("Set cloud_id to {id} in the tap's settings."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_comes_from_the_address_or_alone_and_a_foreign_state_is_refused() {
        let from = |answer: &str| code_from(answer, "s1").map_err(|e| e.to_string());
        assert_eq!(
            from("https://cb.example/x?code=abc&state=s1\n").unwrap(),
            "abc"
        );
        assert_eq!(from("  abc-123 ").unwrap(), "abc-123");
        assert!(
            from("https://cb.example/x?code=abc&state=s2")
                .unwrap_err()
                .contains("state")
        );
        assert!(
            from("https://cb.example/x?error=access_denied&state=s1")
                .unwrap_err()
                .contains("access was not granted (access_denied")
        );
        assert!(
            from("https://cb.example/x?state=s1")
                .unwrap_err()
                .contains("no code")
        );
        assert!(from("").unwrap_err().contains("no code was given"));
        assert!(from("two words").is_err());
    }

    #[test]
    fn a_token_that_reaches_several_sites_names_them() {
        let site = |id: &str| AccessibleSite {
            cloud_id: id.into(),
            url: format!("https://{id}.atlassian.net"),
        };
        assert_eq!(one_site(&[site("a")]).unwrap(), "a");
        let e = one_site(&[site("a"), site("b")]).unwrap_err().to_string();
        assert!(e.contains("a (https://a.atlassian.net), b"), "{e}");
        assert!(one_site(&[]).is_err());
    }
}
