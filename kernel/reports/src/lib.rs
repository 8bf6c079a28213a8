//! Documents for the enterprise: the Statement of Applicability (table, CSV,
//! xlsx) and the ISMS report (HTML with inline SVG charts, Markdown, JSON).
//!
//! Reports are views: built from an ISMS record, its schema and its engine,
//! they compute nothing the engine does not already give, and write no store.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod certificate;
mod document;
mod documents;
mod obligations;
pub mod pdf;
mod soa;
mod view;

pub use certificate::certificate_document;
pub use document::{
    document_docx, document_html, document_pdf, markdown_blocks, markdown_html, pack_index_html,
    pack_pdf, pack_zip, render_document, report_pdf, RenderedDocument,
};
pub use documents::Documents;
pub use obligations::{
    obligation_rows, summary as obligations_summary, ObligationControl, ObligationRow,
};
pub use soa::{soa_pdf, soa_rows, write_soa_csv, write_soa_xlsx, SoaRow};
pub use view::{
    fixed, render_html, render_markdown, report_view, trend_view, HeatCell, ReportView, TrendView,
};
