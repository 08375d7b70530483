//! The shared-secret check of the handshake.

/// Compares in time that depends only on the expected token's length, so a client cannot
/// learn the token byte by byte from response times.
pub(crate) fn token_matches(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(!e);
        diff |= std::hint::black_box(g ^ e);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(token_matches(b"secret", b"secret"));
        assert!(!token_matches(b"secreT", b"secret"));
        assert!(!token_matches(b"secret2", b"secret"));
        assert!(!token_matches(b"secre", b"secret"));
        assert!(!token_matches(b"", b"secret"));
    }
}
