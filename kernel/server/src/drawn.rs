//! The culture test a session draws (A3.1). The seed is derived on the
//! server from the session secret, the ISMS, the user and the attempts left:
//! a test cannot be re-drawn by editing a form or a request, the same page
//! shows the same questions, and each attempt draws anew. The web form and
//! the API share it.

use sha2::{Digest, Sha256};

use mmsm_kernel::access::Principal;
use mmsm_kernel::services::msgs::CultureTest;
use mmsm_kernel::services::Kernel;

/// The seed of the current attempt of `user`: fixed for a session and an
/// attempt, unknown to the browser.
pub fn seed(secret: &str, isms: &str, user: &str, attempts_left: usize) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"mmsm culture test\0")
        .chain_update(secret.as_bytes())
        .chain_update([0])
        .chain_update(isms.as_bytes())
        .chain_update([0])
        .chain_update(user.as_bytes())
        .chain_update(attempts_left.to_le_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// Draws the current attempt's test.
pub fn current_test(
    k: &Kernel,
    who: &Principal,
    secret: &str,
    isms: &str,
    user: &str,
) -> mmsm_kernel::services::Result<CultureTest> {
    k.draw_culture_test_seeded(who, isms, user, |attempts_left| {
        seed(secret, isms, user, attempts_left)
    })
}

/// The question ids of a test, comma-separated: what a form sends back so
/// that a take can check it answers the current draw.
pub fn drawn_ids(test: &CultureTest) -> String {
    test.questions
        .iter()
        .map(|q| q.id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::seed;

    #[test]
    fn the_seed_changes_with_the_session_the_user_and_the_attempt() {
        let a = seed("secret", "isms", "ana", 3);
        assert_eq!(a, seed("secret", "isms", "ana", 3));
        assert_ne!(a, seed("other", "isms", "ana", 3));
        assert_ne!(a, seed("secret", "isms", "luis", 3));
        assert_ne!(a, seed("secret", "isms", "ana", 2));
    }
}
