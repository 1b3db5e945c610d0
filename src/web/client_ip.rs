//! The client's address: the TCP peer, or, when that peer is one of
//! `[web] trusted_proxies`, the address the proxy reports in `X-Forwarded-For`.
//! Rate limits and consent records use it, so that behind a reverse proxy
//! every visitor is not the proxy.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::App;

/// Extracts the client's IP address (see the module docs).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Arc<App>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientIp(client_ip(peer, forwarded, &app.trusted_proxies)))
    }
}

/// Walks `X-Forwarded-For` from the right (the hop nearest to us), skipping
/// trusted proxies; the first other address is the client. A peer that is
/// not trusted is the client whatever the header says, and a hop that does
/// not parse ends the walk at the last trusted address, since anything left
/// of it may be forged.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.contains(&ip.to_canonical());
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
            return client;
        };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn loopback() -> Vec<IpAddr> {
        vec![ip("127.0.0.1"), ip("::1")]
    }

    #[test]
    fn a_request_from_a_trusted_proxy_is_the_forwarded_client() {
        let got = client_ip(ip("127.0.0.1"), ["203.0.113.7"].into_iter(), &loopback());
        assert_eq!(got, ip("203.0.113.7"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let got = client_ip(ip("198.51.100.9"), ["203.0.113.7"].into_iter(), &loopback());
        assert_eq!(got, ip("198.51.100.9"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), ["203.0.113.7"].into_iter(), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn forged_hops_left_of_the_nearest_untrusted_one_are_ignored() {
        // The client sent `X-Forwarded-For: 10.9.9.9`; the proxy appended the real address.
        let got = client_ip(
            ip("::1"),
            ["10.9.9.9, 203.0.113.7"].into_iter(),
            &loopback(),
        );
        assert_eq!(got, ip("203.0.113.7"));
        let split = client_ip(
            ip("::1"),
            ["10.9.9.9", "203.0.113.7"].into_iter(),
            &loopback(),
        );
        assert_eq!(split, ip("203.0.113.7"));
    }

    #[test]
    fn a_trusted_peer_without_the_header_or_with_junk_is_itself() {
        assert_eq!(
            client_ip(ip("127.0.0.1"), [].into_iter(), &loopback()),
            ip("127.0.0.1")
        );
        let junk = client_ip(
            ip("127.0.0.1"),
            ["203.0.113.7, not-an-ip"].into_iter(),
            &loopback(),
        );
        assert_eq!(junk, ip("127.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_addresses_match_their_ipv4_form() {
        let got = client_ip(
            ip("::ffff:127.0.0.1"),
            ["203.0.113.7"].into_iter(),
            &loopback(),
        );
        assert_eq!(got, ip("203.0.113.7"));
    }
}
