//! How long what people type may be (issue 17): a name 120 characters, a
//! title 200, a text 10,000. A 100,000-character asset name once widened
//! tables to a million pixels and could not be deleted.

/// The longest name (an enterprise, an asset, a person, a department).
pub const MAX_NAME: usize = 120;
/// The longest title (an incident's, a register entry's short text).
pub const MAX_TITLE: usize = 200;
/// The longest free text (what happened, a note, a justification).
pub const MAX_TEXT: usize = 10_000;

/// Refuses `value` when it is longer than `max` characters, naming `what`.
pub fn check_length(what: &str, value: &str, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n > max {
        return Err(format!(
            "{what} has {n} characters; at most {max} are kept, shorten it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_counted_in_characters() {
        assert!(check_length("the name", &"é".repeat(MAX_NAME), MAX_NAME).is_ok());
        let err = check_length("the name", &"x".repeat(10_240), MAX_NAME).unwrap_err();
        assert_eq!(
            err,
            "the name has 10240 characters; at most 120 are kept, shorten it"
        );
    }
}
