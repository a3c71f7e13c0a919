//! The reports as files: each report is also a table — headers and rows of text — served as CSV or
//! as an XLSX workbook when `?format=csv` or `?format=xlsx` asks (JSON otherwise). A CSV cell that
//! a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a return first) is quoted
//! with a leading `'`; an XLSX cell is always written as text, never as a formula.

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
}

/// A report's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (the default), `csv` or `xlsx`.
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
            Some(_) => Err(ServiceError::Invalid { field: "format".into(), message: "give `json`, `csv` or `xlsx`".into() }.into()),
        }
    }
}

/// A report as a table.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file's name without its extension, and the sheet's name.
    pub name: &'static str,
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
}

/// `yes` or `no`.
pub fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// A CSV cell a spreadsheet will not run as a formula.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

impl Table {
    /// The table as CSV, header first.
    pub fn csv(&self) -> Result<Vec<u8>> {
        let failed = |e: csv::Error| ServiceError::Internal(format!("writing the CSV: {e}"));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.headers).map_err(failed)?;
        for row in &self.rows {
            w.write_record(row.iter().map(|c| inert(c).into_owned())).map_err(failed)?;
        }
        w.into_inner().map_err(|e| ServiceError::Internal(format!("writing the CSV: {e}")).into())
    }

    /// The table as an XLSX workbook of one sheet: a bold header row that stays in view and
    /// filters, columns fitted to their text.
    pub fn xlsx(&self) -> Result<Vec<u8>> {
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
                sheet.write_string(row, col, cell)?;
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

/// `report` as `format` asks: JSON as it is, or `table(&report)` as a CSV or XLSX file.
pub fn respond<T: Serialize>(format: Format, report: T, table: impl FnOnce(&T) -> Table) -> Result<Response> {
    if format == Format::Json {
        return Ok(Json(report).into_response());
    }
    let t = table(&report);
    let (bytes, kind, ext) = if format == Format::Csv {
        (t.csv()?, "text/csv; charset=utf-8", "csv")
    } else {
        (t.xlsx()?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    };
    let disposition = format!("attachment; filename=\"{}.{ext}\"", t.name);
    Ok(([(header::CONTENT_TYPE, kind.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}
