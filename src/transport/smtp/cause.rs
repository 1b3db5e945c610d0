//! One readable line for an SMTP client failure. lettre repeats each
//! cause inside its own message (`Connection error: Connection error: …`)
//! and rustls shows certificate problems with `Debug` (OIDs as byte
//! arrays); this says each part once, and certificate problems in words.
use std::error::Error;

use lettre::transport::smtp::Error as SmtpError;
use rustls::CertificateError;

/// `e` and its causes as one line, each part once; a TLS failure as what
/// went wrong with the certificate.
pub(super) fn describe(e: &SmtpError) -> String {
    let mut chain: Vec<&(dyn Error + 'static)> = vec![e];
    let mut at: &(dyn Error + 'static) = e;
    while let Some(next) = at.source() {
        chain.push(next);
        at = next;
    }
    if let Some(tls) = chain.iter().find_map(|e| as_rustls(*e)) {
        return tls_words(tls);
    }
    let texts: Vec<String> = chain.iter().map(ToString::to_string).collect();
    let mut parts: Vec<&str> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        // Each message minus the next one, which lettre appends.
        let own = match texts.get(i + 1) {
            Some(next) => text
                .strip_suffix(next.as_str())
                .and_then(|t| t.strip_suffix(": "))
                .unwrap_or(text),
            None => text,
        };
        if parts.last() != Some(&own) {
            parts.push(own);
        }
    }
    parts.join(": ")
}

/// The rustls error in `e`, itself or inside an I/O error (as tokio-rustls
/// reports handshake failures).
fn as_rustls<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    e.downcast_ref::<rustls::Error>().or_else(|| {
        e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })
}

fn tls_words(e: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return format!("the TLS handshake failed: {e}");
    };
    let what = match cert {
        CertificateError::UnknownIssuer
        | CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "is not signed by a certificate authority this machine trusts".to_owned()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "has expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "is not valid yet (check this machine's clock)".to_owned()
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "is for {}, not `{}`",
            presented
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            expected.to_str()
        ),
        CertificateError::NotValidForName => "is not for this host name".to_owned(),
        CertificateError::Revoked => "was revoked".to_owned(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "is not meant for a server".to_owned()
        }
        CertificateError::BadEncoding => "is malformed".to_owned(),
        _ => "could not be verified".to_owned(),
    };
    format!("the TLS handshake failed: the relay's certificate {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_problems_are_said_in_words_without_byte_arrays() {
        let oid = CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
            signature_algorithm_id: vec![6, 8, 42, 134, 72, 206, 61, 4, 3, 2],
            public_key_algorithm_id: vec![6, 9, 42, 134],
        };
        let text = tls_words(&rustls::Error::InvalidCertificate(oid));
        assert_eq!(
            text,
            "the TLS handshake failed: the relay's certificate is not signed by a certificate \
             authority this machine trusts"
        );
        let name = CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("smtp.example.com").unwrap(),
            presented: vec!["mail.example.org".to_owned()],
        };
        let text = tls_words(&rustls::Error::InvalidCertificate(name));
        assert!(
            text.ends_with("is for `mail.example.org`, not `smtp.example.com`"),
            "{text}"
        );
    }
}
