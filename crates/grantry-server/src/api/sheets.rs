//! The reports as files: each report is also a table — headers and rows of text — served as CSV,
//! as an XLSX workbook, or as the table itself for a terminal (`?format=csv|xlsx|table`; JSON
//! otherwise). In a CSV, a cell a spreadsheet would read as a formula — `=`, `+`, `-`, `@`, a tab
//! or a return first, or right after a `,` or `;` that a spreadsheet may split the cell at — has a
//! `'` put before that character. An XLSX cell is always text, never a formula; one longer than a
//! cell holds (32,767 characters) is cut, ending in `…`, and a report longer than a worksheet
//! (1,048,575 rows under the header) is refused as XLSX.

use crate::error::Result;
use crate::service::ServiceError;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// What a report is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
    Table,
}

/// The media type of a report's table (`?format=table`).
pub const TABLE_TYPE: &str = "application/vnd.grantry.table+json";
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The most characters an XLSX cell holds, and the most rows a worksheet holds under its header.
const XLSX_CELL: usize = 32_767;
const XLSX_ROWS: usize = 1_048_575;

/// A report's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (the default), `csv`, `xlsx`, or `table` (the rows as the CLI shows them).
    #[param(value_type = Option<String>)]
    #[serde(default)]
    pub format: Option<String>,
}

impl ReportQuery {
    pub fn format(&self) -> Result<Format> {
        match self.format.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some("table") => Ok(Format::Table),
            Some(_) => {
                Err(ServiceError::Invalid { field: "format".into(), message: "give `json`, `csv`, `xlsx` or `table`".into() }.into())
            }
        }
    }
}

/// A report as a table.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Table {
    /// The file's name without its extension, and the sheet's name.
    pub name: &'static str,
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
    /// A line under the table, if the report has one.
    pub footer: Option<String>,
}

/// `yes` or `no`.
pub fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// Whether a spreadsheet reads a cell that starts with `c` as a formula.
fn triggers(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// A CSV cell a spreadsheet will not run as a formula: a `'` before each trigger that opens the
/// cell, or opens what a spreadsheet splitting at `,` or `;` would take for one.
fn inert(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len() + 1);
    let mut opens = true;
    for c in cell.chars() {
        if opens && triggers(c) {
            out.push('\'');
        }
        out.push(c);
        opens = matches!(c, ',' | ';') || (opens && c == ' ');
    }
    out
}

/// An XLSX cell: the text, cut to what a cell holds.
fn fitted(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.chars().count() <= XLSX_CELL {
        return cell.into();
    }
    let mut cut: String = cell.chars().take(XLSX_CELL - 1).collect();
    cut.push('…');
    cut.into()
}

impl Table {
    /// The table as CSV, header first.
    pub fn csv(&self) -> Result<Vec<u8>> {
        let failed = |e: csv::Error| ServiceError::Internal(format!("writing the CSV: {e}"));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.headers).map_err(failed)?;
        for row in &self.rows {
            w.write_record(row.iter().map(|c| inert(c))).map_err(failed)?;
        }
        w.into_inner().map_err(|e| ServiceError::Internal(format!("writing the CSV: {e}")).into())
    }

    /// The table as an XLSX workbook of one sheet: a bold header row that stays in view and
    /// filters, columns fitted to their text.
    pub fn xlsx(&self) -> Result<Vec<u8>> {
        if self.rows.len() > XLSX_ROWS {
            let message = format!("the report has {} rows, more than a worksheet holds ({XLSX_ROWS}); ask for `csv`", self.rows.len());
            return Err(ServiceError::Invalid { field: "format".into(), message }.into());
        }
        self.workbook().map_err(|e| ServiceError::Internal(format!("writing the workbook: {e}")).into())
    }

    fn workbook(&self) -> std::result::Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(self.name)?;
        let bold = CellFormat::new().set_bold();
        for (col, h) in (0u16..).zip(self.headers) {
            sheet.write_string_with_format(0, col, *h, &bold)?;
        }
        for (row, cells) in (1u32..).zip(&self.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                sheet.write_string(row, col, fitted(cell))?;
            }
        }
        let last_col = u16::try_from(self.headers.len().saturating_sub(1)).unwrap_or(u16::MAX);
        let last_row = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, last_row, last_col)?;
        sheet.autofit();
        book.save_to_buffer()
    }
}

/// `report` as `format` asks: JSON as it is, or `table(&report)` as a CSV or XLSX file or as the
/// table itself. A workbook is built off the async threads.
pub async fn respond<T: Serialize>(format: Format, report: T, table: impl FnOnce(&T) -> Table) -> Result<Response> {
    let t = match format {
        Format::Json => return Ok(Json(report).into_response()),
        _ => table(&report),
    };
    let (bytes, kind, ext) = match format {
        Format::Csv => (t.csv()?, "text/csv; charset=utf-8", "csv"),
        Format::Table => {
            let body = serde_json::to_vec(&t).map_err(|e| ServiceError::Internal(format!("writing the table: {e}")))?;
            return Ok(([(header::CONTENT_TYPE, TABLE_TYPE)], body).into_response());
        }
        _ => {
            let name = t.name;
            let built = tokio::task::spawn_blocking(move || t.xlsx()).await;
            let bytes = built.map_err(|e| ServiceError::Internal(format!("writing the workbook: {e}")))??;
            return Ok(file(bytes, XLSX_TYPE, name, "xlsx"));
        }
    };
    Ok(file(bytes, kind, t.name, ext))
}

fn file(bytes: Vec<u8>, kind: &'static str, name: &str, ext: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    ([(header::CONTENT_TYPE, kind.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_is_quoted_wherever_a_spreadsheet_may_start_a_cell() {
        for (cell, safe) in [
            ("=1+1", "'=1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("x;=cmd|' /C calc'!A0", "x;'=cmd|' /C calc'!A0"),
            ("Parent, =SUM(A1)", "Parent, '=SUM(A1)"),
            ("a-b", "a-b"),
            ("Support Team", "Support Team"),
            ("", ""),
        ] {
            assert_eq!(inert(cell), safe, "{cell}");
        }
    }

    #[test]
    fn a_cell_longer_than_a_workbook_holds_is_cut() {
        let long = "x".repeat(XLSX_CELL + 10);
        let cut = fitted(&long);
        assert_eq!(cut.chars().count(), XLSX_CELL);
        assert!(cut.ends_with('…'));
        assert_eq!(fitted("short"), "short");
    }
}
