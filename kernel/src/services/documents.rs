//! The documents of an ISMS for the enterprise: SoA and report views.

use crate::access::Principal;
use crate::reports::{self, ReportView, SoaRow};

use super::{Kernel, Result};

impl Kernel {
    /// The Statement of Applicability of an ISMS.
    pub fn soa(&self, principal: &Principal, id: &str) -> Result<(String, Vec<SoaRow>)> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let rows = reports::soa_rows(engine.schema(), &engine.board(), &record.inputs.answers);
        Ok((record.enterprise.name, rows))
    }

    /// Everything the enterprise's report shows.
    pub fn report(&self, principal: &Principal, id: &str) -> Result<ReportView> {
        let (record, engine) = self.isms_engine(principal, id)?;
        let mut board = engine.board();
        board.isms = record.id.to_string();
        let soa = reports::soa_rows(engine.schema(), &board, &record.inputs.answers);
        let trend = reports::trend_view(&self.board_trend(principal, id)?);
        Ok(reports::report_view(
            engine.schema(),
            &record,
            &board,
            &engine.risks(),
            &engine.plan(),
            soa,
            trend,
            self.now(),
        ))
    }
}
