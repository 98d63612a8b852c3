//! The connection to the site: the HTTP client every request goes through (timeouts, CA
//! certificates, a client certificate for mutual TLS, a proxy), and which failures to reach the
//! site are worth retrying. A certificate that does not verify, a host name that does not
//! resolve or a port that refuses says the same thing every time until someone changes the
//! config: before the site has ever answered, those fail at once with what to check. Once it has
//! answered, a refused connection or a failed lookup is a restart or a blip, and is retried like
//! any other; a certificate never starts verifying by itself.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use crate::config::{ClientCertificate, Network};
use crate::error::{Error, Result};

/// The proxy variables reqwest reads, most specific first, as curl reads them.
pub const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The one HTTP client of a run: the site's requests, and the token and tenant requests beside
/// them, all go the same way (through the same proxy, with the same certificates).
/// `destination` is where the first requests go: the proxy logged is the one for its scheme.
pub fn http_client(config: &Network, destination: &Url) -> Result<reqwest::Client> {
    check_proxy_variables()?;
    let mut headers = HeaderMap::new();
    headers.insert("Accept", HeaderValue::from_static("application/json"));
    // English error strings, so messages can be matched and read.
    headers.insert("Accept-Language", HeaderValue::from_static("en"));
    headers.insert("X-Force-Accept-Language", HeaderValue::from_static("true"));
    // Server/DC otherwise rejects some requests as XSRF; harmless on Cloud.
    headers.insert("X-Atlassian-Token", HeaderValue::from_static("no-check"));
    let mut builder = reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(config.user_agent.clone())
        .timeout(config.request_timeout)
        .connect_timeout(Duration::from_secs(30).min(config.request_timeout))
        // Redirects could carry the Authorization header to another host: follow none.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &config.ca_bundle {
        let pem = std::fs::read(path).map_err(|e| {
            Error::config(
                "ca_bundle",
                format!("{} cannot be read: {e}", path.display()),
                "",
            )
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Error::config(
                "ca_bundle",
                format!("{} is not a PEM bundle: {e}", path.display()),
                "",
            )
        })?;
        check_roots(&pem, path)?;
        builder = builder.tls_certs_merge(certs);
    }
    if let Some(certificate) = &config.client_certificate {
        builder = builder.identity(identity(certificate)?);
    }
    if let Some(proxy) = &config.proxy_url {
        // Given in the config, the proxy replaces the environment's; NO_PROXY still applies.
        let proxy = reqwest::Proxy::all(proxy.expose())
            .map_err(|e| Error::config("proxy_url", format!("is refused: {e}"), ""))?
            .no_proxy(reqwest::NoProxy::from_env());
        builder = builder.proxy(proxy);
    }
    log_proxy(config, destination);
    builder.build().map_err(|e| {
        Error::config(
            "base_url",
            format!("HTTP client could not start: {}", super::error_chain(&e)),
            "",
        )
    })
}

/// A proxy variable whose user name or password holds an `@` as typed
/// (`http://u:p@ss@proxy:3128`): reqwest cuts the credentials at the first `@`, so the proxy
/// gets a wrong password and reqwest's debug log names the rest of it as the proxy's user.
/// `proxy_url` has no such problem (it is read as a URL, cut at the last `@`).
fn check_proxy_variables() -> Result<()> {
    for name in PROXY_VARIABLES {
        let Ok(value) = std::env::var(name) else {
            continue;
        };
        let rest = value
            .split_once("://")
            .map_or(value.as_str(), |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.matches('@').count() > 1 {
            return Err(Error::config(
                *name,
                "has an `@` in its user name or password, which would send the proxy a wrong \
                 password",
                "write that `@` as %40: http://user:p%40ss@proxy:3128",
            ));
        }
    }
    Ok(())
}

/// Each certificate of a CA bundle as rustls will take it: reqwest reads the PEM blocks, but a
/// block whose certificate is malformed fails only when the client is built, without saying
/// which file.
fn check_roots(pem: &[u8], path: &std::path::Path) -> Result<()> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for (index, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let added = cert
            .map_err(|e| e.to_string())
            .and_then(|cert| roots.add(cert).map_err(|e| e.to_string()));
        if let Err(e) = added {
            return Err(Error::config(
                "ca_bundle",
                format!(
                    "certificate {} of {} cannot be used: {e}",
                    index + 1,
                    path.display()
                ),
                "give the PEM certificates of the CAs that sign the site's certificate",
            ));
        }
    }
    Ok(())
}

/// The client certificate and its key, as rustls takes them: PEM blocks in one buffer. Neither
/// file's content is ever printed.
fn identity(certificate: &ClientCertificate) -> Result<reqwest::Identity> {
    let read = |key: &str, path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| Error::config(key, format!("{} cannot be read: {e}", path.display()), ""))
    };
    let mut pem = read("client_certificate", &certificate.certificate)?;
    if let Some(key) = &certificate.key {
        pem.push(b'\n');
        pem.extend(read("client_key", key)?);
    }
    reqwest::Identity::from_pem(&pem).map_err(|_| {
        Error::config(
            "client_certificate",
            "with client_key, is not a PEM certificate and an unencrypted PEM private key",
            "give the certificate (chain) in client_certificate and its key (PKCS#8, PKCS#1 or \
             SEC1, without a passphrase) in client_key",
        )
    })
}

/// Says which proxy the site's requests take, without its credentials.
fn log_proxy(config: &Network, destination: &Url) {
    let no_proxy = ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .unwrap_or_default();
    let (proxy, from) = match &config.proxy_url {
        Some(proxy) => (proxy.expose().to_string(), "proxy_url"),
        None => {
            let specific: &[&'static str] = match destination.scheme() {
                "https" => &["HTTPS_PROXY", "https_proxy"],
                _ => &["HTTP_PROXY", "http_proxy"],
            };
            // As reqwest reads them: the first of each pair that is set, empty or not; one that
            // is no proxy (empty, to turn it off) gives way to ALL_PROXY.
            let first_set = |names: &[&'static str]| {
                names
                    .iter()
                    .find_map(|name| Some((std::env::var(name).ok()?, *name)))
            };
            let found = [specific, &["ALL_PROXY", "all_proxy"]]
                .into_iter()
                .filter_map(first_set)
                .find(|(value, _)| proxy_url(value).is_some());
            let Some((value, name)) = found else {
                return;
            };
            // Under CGI a request's `Proxy:` header becomes HTTP_PROXY: reqwest takes none of them.
            if std::env::var_os("REQUEST_METHOD").is_some() {
                tracing::info!(
                    ignored = name,
                    "REQUEST_METHOD is set (as under CGI): the proxy variables are not used"
                );
                return;
            }
            (value, name)
        }
    };
    tracing::info!(
        proxy = %without_credentials(&proxy),
        from,
        no_proxy,
        "requests go through a proxy, except to hosts NO_PROXY names"
    );
}

/// A proxy as a URL: without a scheme, `http://` is meant, as reqwest reads it (`u:pw@host:3128`
/// would otherwise parse as the scheme `u`, its password unseen).
pub fn proxy_url(proxy: &str) -> Option<Url> {
    let proxy = proxy.trim();
    if proxy.contains("://") {
        Url::parse(proxy).ok()
    } else {
        Url::parse(&format!("http://{proxy}")).ok()
    }
}

/// A proxy URL as it may be shown: without `user:password@`.
pub fn without_credentials(proxy: &str) -> String {
    match proxy_url(proxy) {
        Some(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        None => "(not a URL)".into(),
    }
}

/// Why reaching the site failed for good, and what to check; `None` when it may pass on retry.
pub fn final_failure(
    error_text: &str,
    answered_before: bool,
) -> Option<(&'static str, &'static str)> {
    let text = error_text.to_ascii_lowercase();
    // Alerts the site sent about the tap's own certificate (mutual TLS), before the checks of
    // the site's certificate that mention certificates too.
    if text.contains("alert: certificaterequired") {
        return Some((
            "it asks for a client certificate (mutual TLS)",
            "set client_certificate and client_key to a certificate the site trusts",
        ));
    }
    if text.contains("received fatal alert")
        && [
            "badcertificate",
            "unknownca",
            "certificateunknown",
            "accessdenied",
            "decrypterror",
        ]
        .iter()
        .any(|alert| text.contains(alert))
    {
        return Some((
            "it refused the client certificate",
            "check that client_certificate is one the site trusts and client_key is its key",
        ));
    }
    // The proxy itself not reached, for a tunnel: neither its refusal nor base_url's fault.
    if text.contains("failed to create underlying connection") {
        if answered_before {
            return None;
        }
        let problem = if text.contains("dns error") || text.contains("failed to lookup address") {
            "the proxy's host name does not resolve"
        } else if text.contains("connection refused") {
            "the proxy refused the connection"
        } else {
            "the proxy cannot be reached"
        };
        return Some((
            problem,
            "check the host and port of proxy_url (or HTTPS_PROXY) and that the proxy is up, \
             or name the site's host in NO_PROXY",
        ));
    }
    if text.contains("tunnel") || text.contains("proxy auth") {
        return Some((
            "the proxy refused to open a tunnel to it",
            "check proxy_url (or HTTPS_PROXY) and the credentials in it, or name the host in NO_PROXY",
        ));
    }
    if text.contains("certificate") || text.contains("unknownissuer") {
        return Some((
            "its TLS certificate does not verify",
            "a site signed by a private CA needs `ca_bundle` (a PEM file of the CA certificates); \
             otherwise check that base_url names the host the certificate is for",
        ));
    }
    if answered_before {
        return None;
    }
    if text.contains("dns error") || text.contains("failed to lookup address") {
        return Some((
            "its host name does not resolve",
            "check the host in base_url (and the proxy's, if one is set, and the machine's DNS)",
        ));
    }
    // rustls reading an HTTP answer (`HTTP/1.1 400`) where a TLS record should be.
    if text.contains("invalidcontenttype") {
        return Some((
            "it does not speak TLS on that port",
            "check the port in base_url, or write http:// with allow_http if the site has no HTTPS",
        ));
    }
    if text.contains("connection refused") {
        return Some((
            "the connection was refused",
            "check the host and port in base_url (and the proxy's, if one is set), and that Jira is up",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_without_a_scheme_is_http_and_shown_without_its_password() {
        let url = proxy_url("u:SECRET-ENV@127.0.0.1:3128").unwrap();
        assert_eq!(url.password(), Some("SECRET-ENV"));
        assert_eq!(
            without_credentials("u:SECRET-ENV@127.0.0.1:3128"),
            "http://127.0.0.1:3128/"
        );
        assert_eq!(
            without_credentials("socks5://u:pw@proxy:1080"),
            "socks5://proxy:1080"
        );
    }

    const REFUSED: &str = "error sending request: client error (Connect): tcp connect error: \
                           Connection refused (os error 111)";
    const DNS: &str = "error sending request: client error (Connect): dns error: failed to lookup \
                       address information: Name or service not known";
    const TLS: &str = "error sending request: client error (Connect): invalid peer certificate: \
                       UnknownIssuer";
    const PROXY_DOWN: &str = "error sending request: client error (Connect): tunnel error: \
                              failed to create underlying connection: tcp connect error: \
                              Connection refused (os error 111)";
    const PLAIN: &str = "error sending request: client error (Connect): received corrupt \
                         message of type InvalidContentType";

    #[test]
    fn what_repeats_itself_fails_at_once_until_the_site_has_answered() {
        assert!(final_failure(REFUSED, false).unwrap().1.contains("port"));
        assert!(final_failure(DNS, false).unwrap().1.contains("host"));
        assert!(final_failure(TLS, false).unwrap().1.contains("ca_bundle"));
        assert_eq!(final_failure(REFUSED, true), None);
        assert_eq!(final_failure(DNS, true), None);
        assert!(
            final_failure(PLAIN, false)
                .unwrap()
                .1
                .contains("allow_http")
        );
        assert_eq!(final_failure(PLAIN, true), None);
        let (problem, hint) = final_failure(PROXY_DOWN, false).unwrap();
        assert!(problem.contains("proxy") && hint.contains("proxy_url"));
        assert_eq!(final_failure(PROXY_DOWN, true), None);
        assert!(final_failure(TLS, true).is_some());
        assert_eq!(final_failure("connection reset by peer", false), None);
        assert_eq!(final_failure("operation timed out", false), None);
    }
}
