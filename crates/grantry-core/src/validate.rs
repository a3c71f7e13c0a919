//! Validation of user input that is not part of a larger type: justifications, emails, slugs,
//! conversation ids.

use crate::error::{CoreError, Result};

/// Trims a justification and checks it has at least `min` characters.
pub fn justification(text: &str, min: usize) -> Result<String> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if count < min {
        return Err(CoreError::invalid(
            "justification",
            format!("is {count} characters; give at least {min} saying why you need access (a ticket or bug number helps)"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Normalizes an email (trimmed, lowercase) and checks its shape.
pub fn email(text: &str) -> Result<String> {
    let e = text.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
        });
    if ok {
        Ok(e)
    } else {
        Err(CoreError::invalid("email", format!("`{}` is not an email address; write it like name@example.com", text.trim())))
    }
}

/// Checks an organization (or workspace, project) slug: 1–63 of `a-z 0-9 -`, not starting with `-`.
pub fn slug(field: &'static str, text: &str) -> Result<String> {
    let ok = !text.is_empty()
        && text.len() <= 63
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(CoreError::invalid(field, format!("`{text}` is not a slug; use 1 to 63 lowercase letters, digits and dashes")))
    }
}

/// Checks a conversation id: 24 hexadecimal characters (lowercased).
pub fn conversation_id(text: &str) -> Result<String> {
    let t = text.trim();
    if t.len() == 24 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(CoreError::invalid(
            "conversation",
            format!("`{t}` is not a conversation id; give the 24-character hex id or the conversation's URL"),
        ))
    }
}

/// Checks grant tags: at most 20, each 1–64 printable characters.
pub fn tags(tags: &[String]) -> Result<Vec<String>> {
    if tags.len() > 20 {
        return Err(CoreError::invalid("tags", format!("{} tags given; at most 20 are allowed", tags.len())));
    }
    tags.iter()
        .map(|t| {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > 64 || t.chars().any(char::is_control) {
                Err(CoreError::invalid("tags", format!("tag `{t}` must be 1 to 64 printable characters")))
            } else {
                Ok(t.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justification_counts_after_trimming() {
        assert!(justification("  short    ", 10).is_err());
        assert_eq!(justification("  Debugging #42 ", 10).unwrap(), "Debugging #42");
    }

    #[test]
    fn emails_and_ids() {
        assert_eq!(email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in ["ana", "@x.io", "a@b", "a b@c.io", "a@.io"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(conversation_id("abc123def456abc123def456").is_ok());
        assert!(conversation_id("abc123").is_err());
        assert!(conversation_id("zzc123def456abc123def456").is_err());
    }
}
