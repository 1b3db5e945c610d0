//! An IP network in the settings (`[web] metrics_allow`): one address
//! (`192.0.2.7`, `2001:db8::7`) or a CIDR range (`10.0.0.0/8`).
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// An address or a range of them, parsed at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network(IpNet);

impl Network {
    /// Parses `192.0.2.7` (one address) or `10.0.0.0/8` (a range).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(Self(IpNet::from(addr)));
        }
        let net: IpNet = text.parse().map_err(|_| {
            format!("`{text}` is not an IP address or a range like `10.0.0.0/8` or `2001:db8::/32`")
        })?;
        if net.network() != net.addr() {
            return Err(format!(
                "`{text}` has host bits set; the range is `{}`",
                net.trunc()
            ));
        }
        Ok(Self(net))
    }

    /// Whether `addr` (an IPv4-mapped IPv6 address counting as IPv4) is in it.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.contains(&addr.to_canonical())
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for Network {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_network_is_one_address_or_a_range_and_says_what_is_wrong() {
        let one = Network::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        assert!(one.contains(ip("::ffff:192.0.2.7")), "IPv4-mapped IPv6");
        assert_eq!(one.to_string(), "192.0.2.7");
        let range = Network::parse("10.0.0.0/8").unwrap();
        assert!(range.contains(ip("10.200.1.2")) && !range.contains(ip("11.0.0.1")));
        let v6 = Network::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8::9")) && !v6.contains(ip("2001:db9::9")));
        let bad = Network::parse("10.0.0.1/8").unwrap_err();
        assert!(bad.contains("`10.0.0.0/8`"), "{bad}");
        let bad = Network::parse("prometheus.internal").unwrap_err();
        assert!(bad.contains("not an IP address"), "{bad}");
    }
}
