//! Which failures to reach the site are worth retrying. A certificate that does not verify, a host
//! name that does not resolve or a port that refuses says the same thing every time until someone
//! changes the config: before the site has ever answered, those fail at once with what to check.
//! Once it has answered, a refused connection or a failed lookup is a restart or a blip, and is
//! retried like any other; a certificate never starts verifying by itself.

/// Why reaching the site failed for good, and what to check; `None` when it may pass on retry.
pub fn final_failure(
    error_text: &str,
    answered_before: bool,
) -> Option<(&'static str, &'static str)> {
    let text = error_text.to_ascii_lowercase();
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
            "check the host in base_url (and the machine's DNS)",
        ));
    }
    if text.contains("connection refused") {
        return Some((
            "the connection was refused",
            "check the host and port in base_url, and that Jira is up",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUSED: &str = "error sending request: client error (Connect): tcp connect error: \
                           Connection refused (os error 111)";
    const DNS: &str = "error sending request: client error (Connect): dns error: failed to lookup \
                       address information: Name or service not known";
    const TLS: &str = "error sending request: client error (Connect): invalid peer certificate: \
                       UnknownIssuer";

    #[test]
    fn what_repeats_itself_fails_at_once_until_the_site_has_answered() {
        assert!(final_failure(REFUSED, false).unwrap().1.contains("port"));
        assert!(final_failure(DNS, false).unwrap().1.contains("host"));
        assert!(final_failure(TLS, false).unwrap().1.contains("ca_bundle"));
        assert_eq!(final_failure(REFUSED, true), None);
        assert_eq!(final_failure(DNS, true), None);
        assert!(final_failure(TLS, true).is_some());
        assert_eq!(final_failure("connection reset by peer", false), None);
        assert_eq!(final_failure("operation timed out", false), None);
    }
}
