//! TLS from a PEM certificate chain and key (`--tls-cert`, `--tls-key`): rustls with the `ring`
//! provider, TLS 1.2 and 1.3, ALPN `http/1.1` (the server speaks HTTP/1.1; websockets upgrade on it).
//!
//! Must not read anything but the two files it is given.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A certificate or key that cannot be used: the file and why.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading the certificate chain {}: {source}", .path.display())]
    Certificate {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{} holds no certificate (PEM `CERTIFICATE` blocks)", .0.display())]
    NoCertificate(PathBuf),
    #[error("reading the private key {}: {source}", .path.display())]
    Key {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the key does not fit the certificate, or is of a kind rustls does not take: {0}")]
    Mismatch(#[source] rustls::Error),
}

/// The acceptor for `cert` (a PEM chain, leaf first) and `key` (PKCS#8, PKCS#1 or SEC1 PEM).
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|source| TlsError::Certificate {
            path: cert.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key.to_owned(),
        source,
    })?;
    // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange (aws-lc-rs has
    // X25519MLKEM768, at the price of building AWS-LC); TLS 1.3 with X25519 is what ring gives.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Mismatch)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsError::Mismatch)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
