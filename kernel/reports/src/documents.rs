//! The documents of an ISMS for the enterprise, read through the kernel:
//! the SoA and the report view.

use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{Kernel, Result, ServiceError};

use crate::{
    certificate_document, obligation_rows, pdf, render_document, report_view, soa_rows, trend_view,
    ObligationRow, RenderedDocument, ReportView, SoaRow,
};

/// The kernel's documents of an ISMS: `use mmsm_reports::Documents` and call
/// them on a [`Kernel`].
pub trait Documents {
    /// The Statement of Applicability of an ISMS, with the enterprise's name.
    fn soa(&self, principal: &Principal, id: &str) -> Result<(String, Vec<SoaRow>)>;

    /// Everything the enterprise's report shows.
    fn report(&self, principal: &Principal, id: &str) -> Result<ReportView>;

    /// Every obligation of the schema's legal catalogue for an ISMS (whether it
    /// applies, why, and how far its controls meet it), with the enterprise's name.
    fn obligations(&self, principal: &Principal, id: &str) -> Result<(String, Vec<ObligationRow>)>;

    /// The level-`level` certificate of an ISMS as a PDF, with its state now.
    fn certificate_pdf(&self, principal: &Principal, id: &str, level: u8) -> Result<Vec<u8>>;

    /// Document `doc` in force of an ISMS, rendered.
    fn document(&self, principal: &Principal, id: &str, doc: &str) -> Result<RenderedDocument>;

    /// Every document in force of an ISMS, rendered, in the order of the
    /// listing, with the enterprise's name (for the pack's title).
    fn document_pack(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(String, Vec<RenderedDocument>)>;

    /// Version `version` of document `doc`, as it read then: its schema
    /// version's text and the field values it was made from.
    fn document_version(
        &self,
        principal: &Principal,
        id: &str,
        doc: &str,
        version: u32,
    ) -> Result<RenderedDocument>;
}

impl Documents for Kernel {
    fn soa(&self, principal: &Principal, id: &str) -> Result<(String, Vec<SoaRow>)> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let notes = self.answer_notes(principal, id)?;
        let rows = soa_rows(
            engine.schema(),
            &engine.board(),
            &engine.risks(),
            &record.inputs.answers,
            &notes,
            &record.inputs.business,
        );
        Ok((record.enterprise.name, rows))
    }

    fn obligations(&self, principal: &Principal, id: &str) -> Result<(String, Vec<ObligationRow>)> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let rows = obligation_rows(engine.schema(), &engine.board(), &record.inputs.business);
        Ok((record.enterprise.name, rows))
    }

    fn report(&self, principal: &Principal, id: &str) -> Result<ReportView> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let mut board = engine.board();
        board.isms = record.id.to_string();
        let notes = self.answer_notes(principal, id)?;
        let risks = engine.risks();
        let soa = soa_rows(
            engine.schema(),
            &board,
            &risks,
            &record.inputs.answers,
            &notes,
            &record.inputs.business,
        );
        let trend = trend_view(&self.board_trend(principal, id)?);
        let mut view = report_view(
            engine.schema(),
            &record,
            &board,
            &risks,
            &engine.plan(),
            soa,
            trend,
            self.now(),
        );
        // From the record already read: no second read of the ISMS.
        view.approval = self.status_of(&record)?.words();
        view.certificates = self
            .certificates_of(&record)?
            .iter()
            .map(|c| {
                format!(
                    "level {} certificate: {}{}",
                    c.certificate.level,
                    c.state,
                    c.reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let today = self.now_utc().date_naive();
        view.findings = self
            .findings_of(&record)?
            .iter()
            .filter(|f| f.is_open())
            .map(|f| {
                format!(
                    "{} {} on control {}: {} ({})",
                    f.label(),
                    f.kind.words(),
                    f.control,
                    f.text,
                    f.state_words(today)
                )
            })
            .collect();
        Ok(view)
    }

    fn document(&self, principal: &Principal, id: &str, doc: &str) -> Result<RenderedDocument> {
        let (record, schema) = self.isms_with_schema(principal, id)?;
        let Some(row) = self
            .documents_of(&record, &schema)?
            .into_iter()
            .find(|d| d.id == doc)
        else {
            return Err(ServiceError::NotFound {
                kind: "document",
                id: doc.to_owned(),
                hint: format!(
                    " in force in ISMS {}; `mmsm isms docs list {}` lists them",
                    record.id, record.id
                ),
            });
        };
        let values = self.document_values(&record)?;
        let today = self.now_utc().date_naive().to_string();
        render_document(&schema, &record, &row, &values, &today).map_err(ServiceError::Refused)
    }

    fn document_version(
        &self,
        principal: &Principal,
        id: &str,
        doc: &str,
        version: u32,
    ) -> Result<RenderedDocument> {
        let current = self.document(principal, id, doc)?;
        let record = self.isms(principal, id)?;
        let control = self.document_control(&record, doc)?;
        let Some(kept) = control.versions.iter().find(|v| v.version == version) else {
            let known: Vec<String> = control
                .versions
                .iter()
                .map(|v| v.version.to_string())
                .collect();
            return Err(ServiceError::NotFound {
                kind: "version",
                id: version.to_string(),
                hint: format!(
                    " of {doc}; its versions are {}",
                    if known.is_empty() {
                        "none kept yet".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        let schema = self
            .schema_index(
                &Principal::system(),
                record.schema.id.as_str(),
                kept.schema_version,
            )?
            .schema()
            .clone();
        let mut row = current.row.clone();
        row.version = kept.version;
        row.approved = kept.approved.clone();
        row.state = match (&kept.approved, kept.version == current.row.version) {
            (_, false) => "superseded",
            (Some(_), true) => current.row.state,
            (None, true) => "draft",
        };
        let today = self.now_utc().date_naive().to_string();
        render_document(&schema, &record, &row, &kept.fields, &today).map_err(ServiceError::Refused)
    }

    fn document_pack(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(String, Vec<RenderedDocument>)> {
        let (record, schema) = self.isms_with_schema(principal, id)?;
        let values = self.document_values(&record)?;
        let today = self.now_utc().date_naive().to_string();
        let docs = self
            .documents_of(&record, &schema)?
            .iter()
            .map(|row| {
                render_document(&schema, &record, row, &values, &today)
                    .map_err(ServiceError::Refused)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((record.enterprise.name, docs))
    }

    fn certificate_pdf(&self, principal: &Principal, id: &str, level: u8) -> Result<Vec<u8>> {
        let (record, schema) = self.isms_with_schema(principal, id)?;
        let Some(view) = self
            .certificates_of(&record)?
            .into_iter()
            .find(|c| c.certificate.level == level)
        else {
            return Err(ServiceError::NotFound {
                kind: "level certificate",
                id: level.to_string(),
                hint: format!(
                    " for ISMS {}; an auditor issues one with `mmsm isms certify {} {level}`",
                    record.id, record.id
                ),
            });
        };
        Ok(pdf::render(&certificate_document(&schema, &record, &view)))
    }
}
