//! The read views of an ISMS that the maintenance and audit zones share:
//! board and risks (the plan with its follow-up is `msgs::plan`), in the shapes of DESIGN.md 5 (the CLI's `--json`
//! and the HTTP API print the same values).

use crate::access::Principal;
use mmsm_engine::{Board, RiskRow};

use super::{Kernel, Result};

impl Kernel {
    /// The control board of an ISMS: the current computed state, stored with
    /// the ISMS by every change (no recomputation on read).
    pub fn board(&self, principal: &Principal, id: &str) -> Result<Board> {
        let record = self.isms(principal, id)?;
        let mut board = std::sync::Arc::unwrap_or_clone(record.board);
        board.isms = record.id.to_string();
        Ok(board)
    }

    /// The risk of every (asset, threat) pair.
    pub fn risks(&self, principal: &Principal, id: &str) -> Result<Vec<RiskRow>> {
        let (_, engine) = self.isms_engine(principal, id)?;
        Ok(engine.risks())
    }
}
