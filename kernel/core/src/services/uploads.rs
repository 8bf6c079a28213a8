//! Inputs that arrive as text (an HTTP body, a browser form) rather than files.

use std::path::{Path, PathBuf};

use crate::access::Principal;
use mmsm_model::{Profile, Zone};
use mmsm_schema::profiles;
use mmsm_schema::{self as schema_docs, SourceFile};

use super::{Generated, ImportOutcome, Kernel, Result, ServiceError};

impl Kernel {
    /// Imports a schema sent as the text of one document; `name` (e.g.
    /// `upload.yaml`) gives the format by its extension and names the file in
    /// located errors.
    pub fn import_schema_text(
        &self,
        principal: &Principal,
        name: &str,
        text: String,
    ) -> Result<ImportOutcome> {
        principal.require(Zone::Schemas, "import a schema")?;
        let loaded = schema_docs::load_files(vec![SourceFile {
            path: PathBuf::from(name),
            text,
        }])
        .map_err(ServiceError::Invalid)?;
        self.import_schema(principal, loaded.schema)
    }

    /// Generates an ISMS from a profile sent as text (`name` ends in `.json`
    /// for JSON, otherwise YAML).
    pub fn generate_isms_text(
        &self,
        principal: &Principal,
        name: &str,
        text: &str,
        explicit_schema: Option<&str>,
    ) -> Result<Generated> {
        principal.require(Zone::Generation, "generate an ISMS")?;
        let path = Path::new(name);
        let profile: Profile =
            profiles::parse_profile(path, text).map_err(ServiceError::Invalid)?;
        self.generate_isms(principal, profile, Some(path), explicit_schema)
    }
}
