//! Validation of user input that is not part of a larger type: justifications, emails, slugs,
//! tags, conversation ids. Every free-text field is bounded in length and refuses control and
//! bidirectional-override characters, which would let stored text rewrite an admin's terminal or
//! disguise itself.

use crate::error::{CoreError, Result};

/// The longest email address (RFC 5321: a path of 256 octets, less the angle brackets).
pub const MAX_EMAIL: usize = 254;
/// The longest local part of an email address (RFC 5321).
pub const MAX_EMAIL_LOCAL: usize = 64;

/// Whether `c` is a bidirectional-formatting character (U+202A–U+202E, U+2066–U+2069, the marks).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `c` is invisible or breaks lines without being a control character: zero-width and
/// joiner characters, the byte-order mark, the soft hyphen, fillers, the line and paragraph
/// separators, interlinear annotation and the tag characters — what lets two names look alike.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Whether `c` may not appear in stored text, nor reach a terminal unescaped: a control,
/// bidirectional-formatting or invisible character.
pub fn is_hostile(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c)
}

/// `text` as an error message may show it: escaped, and cut at 64 characters.
pub fn shown(text: &str) -> String {
    let cut: String = text.chars().take(64).collect();
    let more = if text.chars().nth(64).is_some() { "…" } else { "" };
    format!("{}{more}", cut.escape_debug())
}

/// The key a name is unique by: lowercased (all of Unicode, `ß` as `ss`), every run of whitespace
/// of any kind (a non-breaking space, say) one space, trimmed — so `Sales\u{a0}Team`, `SALES TEAM`
/// and `Sales  Team` are one name.
pub fn name_key(name: &str) -> String {
    let folded = name.to_lowercase().replace('ß', "ss");
    folded.split(char::is_whitespace).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Whether `name` looks like a record id (24 hexadecimal characters), which a name must not:
/// something named by id or name would then be ambiguous.
pub fn looks_like_id(name: &str) -> bool {
    let t = name.trim();
    t.len() == 24 && t.chars().all(|c| c.is_ascii_hexdigit())
}

/// Refuses text holding control or bidirectional-formatting characters.
pub fn printable(field: &'static str, text: &str) -> Result<()> {
    match text.chars().find(|c| is_hostile(*c)) {
        Some(c) => {
            Err(CoreError::invalid(field, format!("contains the control or formatting character U+{:04X}; remove it", u32::from(c))))
        }
        None => Ok(()),
    }
}

/// Refuses text longer than `max` characters or holding control or formatting characters.
pub fn bounded(field: &'static str, text: &str, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(CoreError::invalid(field, format!("is longer than {max} characters")));
    }
    printable(field, text)
}

/// Trims a justification and checks it has at least `min` and at most `max` characters, all printable.
pub fn justification(text: &str, min: usize, max: usize) -> Result<String> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if count < min {
        return Err(CoreError::invalid(
            "justification",
            format!("is {count} characters; give at least {min} saying why you need access (a ticket or bug number helps)"),
        ));
    }
    if count > max {
        return Err(CoreError::invalid(
            "justification",
            format!("is {count} characters; keep it to at most {max} (link to a ticket for the details)"),
        ));
    }
    printable("justification", trimmed)?;
    Ok(trimmed.to_owned())
}

/// Normalizes an email (trimmed, lowercase) and checks its shape and lengths (RFC 5321).
pub fn email(text: &str) -> Result<String> {
    let e = text.trim().to_lowercase();
    if e.len() > MAX_EMAIL {
        return Err(CoreError::invalid("email", format!("is {} bytes long; an email address has at most {MAX_EMAIL}", e.len())));
    }
    printable("email", &e)?;
    let ok = !e.chars().any(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, _)| local.len() <= MAX_EMAIL_LOCAL)
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
    printable(field, text)?;
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

/// Checks a record id (a user's, a grant's, a key's): 24 lowercase hexadecimal characters.
pub fn record_id(field: &'static str, text: &str) -> Result<String> {
    if text.len() == 24 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(text.to_owned())
    } else {
        Err(CoreError::invalid(field, format!("`{}` is not an id; ids are 24 lowercase hexadecimal characters", shown(text))))
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
            if t.is_empty() || t.chars().count() > 64 || t.chars().any(is_hostile) {
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
        assert!(justification("  short    ", 10, 1000).is_err());
        assert_eq!(justification("  Debugging #42 ", 10, 1000).unwrap(), "Debugging #42");
        assert!(justification(&"x".repeat(1001), 10, 1000).is_err());
        assert!(justification("Debugging \u{1b}[2J #42", 10, 1000).is_err(), "terminal escapes");
        assert!(justification("Debugging \u{202E}24# issue", 10, 1000).is_err(), "a right-to-left override");
        for invisible in ['\u{200B}', '\u{2028}', '\u{FEFF}', '\u{00AD}', '\u{E0041}', '\u{3164}'] {
            assert!(justification(&format!("Debugging{invisible} issue #42"), 10, 1000).is_err(), "U+{:04X}", u32::from(invisible));
        }
        assert!(justification("Débogage : problème n° 42 — 日本語", 10, 1000).is_ok(), "ordinary text of any script");
    }

    #[test]
    fn errors_show_at_most_64_characters_of_the_input() {
        let long = "x".repeat(5000);
        let e = record_id("user", &long).unwrap_err().to_string();
        assert!(e.len() < 200 && e.contains('…'), "{e}");
    }

    #[test]
    fn hostile_emails_are_refused() {
        for bad in
            ["a\u{0}b@x.io", "a\u{1b}@x.io", "ana\u{202E}@x.io", &format!("{}@x.io", "a".repeat(65)), &format!("a@{}.io", "b".repeat(250))]
        {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        assert!(slug("workspace", "ml\u{0}").is_err());
        assert!(tags(&["ok".into(), "bad\u{2066}".into()]).is_err());
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
