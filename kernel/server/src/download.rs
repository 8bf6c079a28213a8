//! Files to download: one response shape for every PDF, Word file,
//! workbook, ZIP and text file the API and the pages send.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A PDF.
pub const PDF: &str = "application/pdf";
/// A Word file.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
/// An Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// A ZIP archive.
pub const ZIP: &str = "application/zip";

/// `body` of type `content_type`, to be saved as `file`.
pub fn attachment(body: impl IntoResponse, content_type: &str, file: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}
