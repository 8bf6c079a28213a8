//! The documents of an ISMS for the enterprise, read through the kernel:
//! the SoA and the report view.

use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{Kernel, Result};

use crate::{report_view, soa_rows, trend_view, ReportView, SoaRow};

/// The kernel's documents of an ISMS: `use mmsm_reports::Documents` and call
/// them on a [`Kernel`].
pub trait Documents {
    /// The Statement of Applicability of an ISMS, with the enterprise's name.
    fn soa(&self, principal: &Principal, id: &str) -> Result<(String, Vec<SoaRow>)>;

    /// Everything the enterprise's report shows.
    fn report(&self, principal: &Principal, id: &str) -> Result<ReportView>;
}

impl Documents for Kernel {
    fn soa(&self, principal: &Principal, id: &str) -> Result<(String, Vec<SoaRow>)> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let notes = self.answer_notes(principal, id)?;
        let rows = soa_rows(
            engine.schema(),
            &engine.board(),
            &record.inputs.answers,
            &notes,
        );
        Ok((record.enterprise.name, rows))
    }

    fn report(&self, principal: &Principal, id: &str) -> Result<ReportView> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let mut board = engine.board();
        board.isms = record.id.to_string();
        let notes = self.answer_notes(principal, id)?;
        let soa = soa_rows(engine.schema(), &board, &record.inputs.answers, &notes);
        let trend = trend_view(&self.board_trend(principal, id)?);
        let mut view = report_view(
            engine.schema(),
            &record,
            &board,
            &engine.risks(),
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
        Ok(view)
    }
}
