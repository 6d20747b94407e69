//! `node:port` text, split and checked the same way by the simulated and
//! the real backend.

use crate::NetError;

/// Splits `host:port`, checking both parts.
pub(crate) fn split_host_port(text: &str) -> Result<(&str, u16), NetError> {
    let invalid = || NetError::InvalidAddr(text.to_owned());
    // Byte by byte: `:` and digits are ASCII, so the split is on a char boundary.
    let colon = text.bytes().rposition(|b| b == b':').ok_or_else(invalid)?;
    let (host, port) = (&text[..colon], &text.as_bytes()[colon + 1..]);
    // Decimal digits only, without a sign or leading zeros (`n1:+7000` and
    // `n1:007000` are not addresses).
    if host.is_empty() || port.is_empty() || (port.len() > 1 && port[0] == b'0') {
        return Err(invalid());
    }
    let mut value = 0u32;
    for &digit in port {
        if !digit.is_ascii_digit() {
            return Err(invalid());
        }
        value = value * 10 + u32::from(digit - b'0');
        if value > u32::from(u16::MAX) {
            return Err(invalid());
        }
    }
    let port = u16::try_from(value).map_err(|_| invalid())?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_plain_decimal() {
        // Proves a sign, leading zeros, spaces and out-of-range ports are refused, naming the text.
        assert_eq!(split_host_port("n1:7000"), Ok(("n1", 7000)));
        assert_eq!(split_host_port("n1:0"), Ok(("n1", 0)));
        assert_eq!(split_host_port("n1:65535"), Ok(("n1", 65535)));
        for text in [
            "n1:+7000",
            "n1:007000",
            "n1:07",
            "n1: 7",
            "n1:",
            "n1:65536",
            ":7",
            "n1:-1",
            "n1:7_0",
        ] {
            assert_eq!(
                split_host_port(text),
                Err(NetError::InvalidAddr(text.to_owned())),
                "{text}"
            );
        }
        assert_eq!(
            NetError::InvalidAddr("n1:+7000".into()).to_string(),
            "invalid address \"n1:+7000\": expected `node:port`, like `n1:7000`"
        );
    }

    #[test]
    fn host_port_splitting_rejects_malformed_text() {
        // Proves the parser accepts `host:port` and names the text it rejects.
        assert_eq!(split_host_port("n1:7000").unwrap(), ("n1", 7000));
        for bad in ["n1", ":7000", "n1:", "n1:70000", "n1:x"] {
            assert_eq!(
                split_host_port(bad),
                Err(NetError::InvalidAddr(bad.to_owned()))
            );
        }
    }
}
