//! Printing: aligned tables for people, JSON for scripts. Text that came from the server is
//! printed with its control and bidirectional-formatting characters escaped, so stored data can
//! never rewrite the reader's terminal, and table cells are bounded so no value breaks a table.

use anyhow::Result;
use grantry_core::validate::is_hostile;
use serde::Serialize;

/// Prints a line to standard output, like `println!`, but if the reader has gone (`grantry … |
/// head`), stops quietly instead of panicking.
#[macro_export]
macro_rules! say {
    () => { $crate::output::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::write_line(format_args!($($arg)*)) };
}

/// Writes one line to standard output with every control or formatting character but the line
/// breaks escaped — whatever the server sent, the terminal only shows it; a closed pipe ends the
/// program quietly, as Unix tools do.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    let text = args.to_string();
    let safe: String = text.split('\n').map(clean_line).collect::<Vec<_>>().join("\n");
    write_raw(&safe);
}

fn write_raw(text: &str) {
    // A closed pipe ends the program quietly; any other failure to print has nowhere to be told.
    let _ = bytes(format!("{text}\n").as_bytes());
}

/// Writes `data` to standard output as it is (a CSV or XLSX file); a reader that closed the pipe
/// ends the program quietly.
pub fn bytes(data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => other,
    }
}

/// Prints `value` as pretty JSON. serde escapes control characters; bidirectional-formatting ones
/// are escaped here the JSON way (`\u202e`), so the output stays valid JSON and inert.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let safe: String =
        text.chars().map(|c| if c != '\n' && is_hostile(c) { format!("\\u{:04x}", u32::from(c)) } else { c.to_string() }).collect();
    write_raw(&safe);
    Ok(())
}

/// The most characters a table cell shows; longer text ends in `…` (`--json` has it whole).
pub const MAX_CELL: usize = 120;

/// `text` on one line, with every control or formatting character escaped (`\u{1b}`).
pub fn clean_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            out.push_str("\\n");
        } else if is_hostile(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A table cell: escaped like [`clean_line`], and at most [`MAX_CELL`] characters.
pub fn clean_cell(text: &str) -> String {
    let line = clean_line(text);
    if line.chars().count() <= MAX_CELL {
        return line;
    }
    let mut cut: String = line.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

/// Renders rows under headers, columns padded to their widest cell; cells are cleaned first.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| clean_cell(h)).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| clean_cell(c)).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count())))).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(&headers)];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

/// The text field `field` of `v` as one clean line (empty when it is not text).
pub fn text(v: &serde_json::Value, field: &str) -> String {
    clean_line(v[field].as_str().unwrap_or_default())
}

/// Prints the array `list[key]`: as JSON when `json`, else as a table of `row`s (`empty` when
/// there are none).
pub fn listed(
    list: &serde_json::Value,
    key: &str,
    json: bool,
    headers: &[&str],
    row: impl Fn(&serde_json::Value) -> Vec<String>,
    empty: &str,
) -> Result<()> {
    if json {
        return self::json(&list[key]);
    }
    print_table(headers, &rows_of(&list[key], row), empty);
    Ok(())
}

/// One table row per element of the JSON array `list` (none when it is not an array).
pub fn rows_of(list: &serde_json::Value, row: impl Fn(&serde_json::Value) -> Vec<String>) -> Vec<Vec<String>> {
    list.as_array().into_iter().flatten().map(row).collect()
}

/// Prints a table, or a note when there are no rows.
pub fn print_table(headers: &[&str], rows: &[Vec<String>], empty: &str) {
    if rows.is_empty() {
        crate::say!("{empty}");
    } else {
        crate::say!("{}", table(headers, rows));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any stored text prints without a panic, on one line per row, with nothing a terminal acts on.
        #[test]
        fn any_text_prints_safely(cells in proptest::collection::vec(any::<String>(), 1..4), long in 0usize..100_000) {
            let mut row = cells.clone();
            row.push("x".repeat(long));
            let headers: Vec<&str> = (0..row.len()).map(|_| "H").collect();
            let out = table(&headers, &[row]);
            prop_assert_eq!(out.lines().count(), 2);
            prop_assert!(!out.chars().any(|c| c != '\n' && is_hostile(c)));
            prop_assert!(out.lines().all(|l| l.chars().count() <= (MAX_CELL + 2) * 5));
        }
    }

    #[test]
    fn escapes_terminal_sequences() {
        assert_eq!(clean_cell("a\u{1b}[2Jb\u{202E}c"), "a\\u{1b}[2Jb\\u{202e}c");
        assert_eq!(clean_cell(&"y".repeat(70_000)).chars().count(), MAX_CELL);
    }
}
