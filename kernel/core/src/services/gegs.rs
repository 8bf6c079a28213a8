//! GEGS: the schemas zone. Import, list, show, clone, export and diff schema
//! versions; only principals of the schemas zone (AGS, GED) may change them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::access::Principal;
use mmsm_model::{AppliesTo, Schema, SchemaHeader, SchemaId, SchemaRef, SectorId, SizeId, Zone};
use mmsm_schema::SourceFile;
use mmsm_schema::{self as schema_docs, SchemaDiff};
use mmsm_store::StoredSchema;

use super::{audit, Kernel, Result, ServiceError};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// A new schema id, stored as version 1.
    Created,
    /// Changed content for an existing id, stored as the next version.
    NewVersion,
    /// The same content as the latest version: nothing stored.
    Unchanged,
}

/// The outcome of importing or cloning a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// The schema id.
    pub id: SchemaId,
    /// The version now current.
    pub version: u32,
    /// What happened.
    pub status: ImportStatus,
}

/// Counts of a schema's main elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaCounts {
    /// Domains.
    pub domains: usize,
    /// Controls.
    pub controls: usize,
    /// Subcontrols (technical-checklist questions).
    pub subcontrols: usize,
    /// Threats.
    pub threats: usize,
    /// Asset types.
    pub asset_types: usize,
    /// Vulnerabilities.
    pub vulnerabilities: usize,
    /// Procedures.
    pub procedures: usize,
    /// Regulations.
    pub regulations: usize,
    /// Templates, registers and instructions.
    pub artefacts: usize,
    /// Rows of the TAD matrix.
    pub tad_rows: usize,
    /// Threat-control links.
    pub threat_controls: usize,
    /// Culture questions.
    pub culture_questions: usize,
    /// Metric definitions.
    pub metrics: usize,
}

impl SchemaCounts {
    /// Counts the elements of `schema`.
    pub fn of(schema: &Schema) -> Self {
        SchemaCounts {
            domains: schema.domains.len(),
            controls: schema.controls.len(),
            subcontrols: schema.subcontrols().count(),
            threats: schema.threats.len(),
            asset_types: schema.asset_types.len(),
            vulnerabilities: schema.vulnerabilities.len(),
            procedures: schema.procedures.len(),
            regulations: schema.regulations.len(),
            artefacts: schema.artefacts.len(),
            tad_rows: schema.matrices.asset_type_threat.len(),
            threat_controls: schema.matrices.threat_control.len(),
            culture_questions: schema.culture.as_ref().map_or(0, |c| c.questions.len()),
            metrics: schema.metrics.len(),
        }
    }
}

/// One line of `schema list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaListing {
    /// The id.
    pub id: SchemaId,
    /// The latest version.
    pub version: u32,
    /// The name.
    pub name: String,
    /// Counts of the latest version.
    pub counts: SchemaCounts,
}

/// What `schema show` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaDetails {
    /// The header of the version shown.
    pub header: SchemaHeader,
    /// Every stored version.
    pub versions: Vec<u32>,
    /// Counts of the version shown.
    pub counts: SchemaCounts,
    /// Subcontrols per maturity level.
    pub subcontrols_per_level: BTreeMap<u8, usize>,
    /// When the version was stored (seconds since the Unix epoch) and by whom.
    pub stored_at: u64,
    /// Who stored it.
    pub stored_by: String,
}

impl Kernel {
    /// Imports the shipped schemas (`folders`: each schema's folder name and
    /// documents, `base` first) when the store has none (its first use).
    /// Returns what was imported.
    pub fn ensure_shipped_schemas(
        &self,
        folders: Vec<(String, Vec<SourceFile>)>,
    ) -> Result<Vec<ImportOutcome>> {
        if !self.store().has_no_schema()? {
            return Ok(Vec::new());
        }
        let system = Principal::system();
        let mut outcomes = Vec::new();
        for (folder, files) in folders {
            let loaded = schema_docs::load_files(files).map_err(|problems| {
                ServiceError::Refused(format!(
                    "the shipped schema `{folder}` is invalid (a defect of this build): {problems}"
                ))
            })?;
            let outcome = self.import_schema(&system, loaded.schema)?;
            // Another process on the same database may have loaded it first.
            if outcome.status != ImportStatus::Unchanged {
                outcomes.push(outcome);
            }
        }
        Ok(outcomes)
    }

    /// Validates the documents at `path` and stores them as a new schema or a new version.
    pub fn import_schema_path(&self, principal: &Principal, path: &Path) -> Result<ImportOutcome> {
        principal.require(Zone::Schemas, "import a schema")?;
        let loaded = schema_docs::load_path(path).map_err(ServiceError::Invalid)?;
        self.import_schema(principal, loaded.schema)
    }

    /// Stores `schema`: a new id becomes version 1; changed content for an
    /// existing id becomes the next version; identical content stores nothing.
    /// Versions are immutable.
    pub fn import_schema(
        &self,
        principal: &Principal,
        mut schema: Schema,
    ) -> Result<ImportOutcome> {
        principal.require(Zone::Schemas, "import a schema")?;
        let problems = schema_docs::validate(&schema, None);
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let now = self.now();
        self.store().write(|store, batch| {
            let id = schema.schema.id.clone();
            let latest = store.schema(id.as_str(), None)?;
            let (version, status) = match &latest {
                None => (1, ImportStatus::Created),
                Some(stored) => {
                    let mut candidate = schema.clone();
                    candidate.schema.version = stored.schema.schema.version;
                    if candidate == stored.schema {
                        return Ok(ImportOutcome {
                            id,
                            version: stored.schema.schema.version,
                            status: ImportStatus::Unchanged,
                        });
                    }
                    (stored.schema.schema.version + 1, ImportStatus::NewVersion)
                }
            };
            schema.schema.version = version;
            batch.put_schema(&StoredSchema {
                schema: schema.clone(),
                stored_at: now,
                stored_by: principal.user.clone(),
            });
            audit(
                batch,
                principal,
                "schema.import",
                vec![format!("{id}@{version}")],
            );
            Ok(ImportOutcome {
                id,
                version,
                status,
            })
        })
    }

    /// Every schema with its latest version, name and counts.
    pub fn list_schemas(&self, principal: &Principal) -> Result<Vec<SchemaListing>> {
        require_reader(principal, "list the schemas")?;
        let mut listings = Vec::new();
        for id in self.store().schema_ids()? {
            if let Some(stored) = self.store().schema(&id, None)? {
                let s = &stored.schema;
                listings.push(SchemaListing {
                    id: s.schema.id.clone(),
                    version: s.schema.version,
                    name: s.schema.name.clone(),
                    counts: SchemaCounts::of(s),
                });
            }
        }
        Ok(listings)
    }

    /// Version `version` (latest when `None`) of schema `id`.
    pub fn schema(
        &self,
        _principal: &Principal,
        id: &str,
        version: Option<u32>,
    ) -> Result<StoredSchema> {
        match self.store().schema(id, version)? {
            Some(stored) => Ok(stored),
            None => Err(self.schema_not_found(id, version)?),
        }
    }

    pub(super) fn schema_not_found(&self, id: &str, version: Option<u32>) -> Result<ServiceError> {
        let versions = self.store().schema_versions(id)?;
        Ok(match (version, versions.is_empty()) {
            (Some(v), false) => ServiceError::NotFound {
                kind: "schema version",
                id: format!("{id}@{v}"),
                hint: format!(
                    "; stored versions are {}",
                    versions
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            _ => {
                let known = self.store().schema_ids()?;
                ServiceError::NotFound {
                    kind: "schema",
                    id: id.to_owned(),
                    hint: if known.is_empty() {
                        "; the store holds no schema yet".into()
                    } else {
                        format!("; known schemas: {}", known.join(", "))
                    },
                }
            }
        })
    }

    /// The header, versions, counts and per-level subcontrol counts of a schema version.
    pub fn show_schema(
        &self,
        principal: &Principal,
        id: &str,
        version: Option<u32>,
    ) -> Result<SchemaDetails> {
        require_reader(principal, "read a schema")?;
        let stored = self.schema(principal, id, version)?;
        let schema = &stored.schema;
        let mut per_level = BTreeMap::new();
        for (_, s) in schema.subcontrols() {
            *per_level.entry(s.level).or_insert(0) += 1;
        }
        Ok(SchemaDetails {
            header: schema.schema.clone(),
            versions: self.store().schema_versions(id)?,
            counts: SchemaCounts::of(schema),
            subcontrols_per_level: per_level,
            stored_at: stored.stored_at,
            stored_by: stored.stored_by,
        })
    }

    /// Clones the latest version of `source` as the new schema `new` (paper
    /// A1: sector schemas are cloned from the base schema EB). The clone
    /// records `based_on`, and may narrow its sector and size.
    pub fn clone_schema(
        &self,
        principal: &Principal,
        source: &str,
        new: &str,
        name: Option<String>,
        sector: Option<String>,
        size: Option<String>,
    ) -> Result<ImportOutcome> {
        principal.require(Zone::Schemas, "clone a schema")?;
        if !self.store().schema_versions(new)?.is_empty() {
            return Err(ServiceError::Exists {
                kind: "schema",
                id: new.to_owned(),
                hint: "; choose another id, or import a changed version of it".into(),
            });
        }
        let stored = self.schema(principal, source, None)?;
        let mut schema = stored.schema;
        let based_on = SchemaRef {
            id: schema.schema.id.clone(),
            version: schema.schema.version,
        };
        schema.schema.id = SchemaId::new(new);
        schema.schema.name =
            name.unwrap_or_else(|| format!("{} (clone of {})", schema.schema.name, based_on.id));
        schema.schema.based_on = Some(based_on);
        let mut applies_to: AppliesTo = schema.schema.applies_to.clone();
        if let Some(sector) = sector {
            applies_to.sectors = vec![SectorId::new(sector)];
        }
        if let Some(size) = size {
            applies_to.sizes = vec![SizeId::new(size)];
        }
        schema.schema.applies_to = applies_to;
        self.import_schema(principal, schema)
    }

    /// Writes a schema version to `dir` as YAML documents; returns the files written.
    pub fn export_schema(
        &self,
        principal: &Principal,
        id: &str,
        version: Option<u32>,
        dir: &Path,
    ) -> Result<Vec<PathBuf>> {
        let stored = self.schema(principal, id, version)?;
        schema_docs::export_to_dir(&stored.schema, dir).map_err(|source| ServiceError::Io {
            path: dir.display().to_string(),
            source,
        })
    }

    /// A schema version as one YAML document, to download or to edit into the next version.
    pub fn schema_document(
        &self,
        principal: &Principal,
        id: &str,
        version: Option<u32>,
    ) -> Result<(StoredSchema, String)> {
        require_reader(principal, "read a schema document")?;
        let stored = self.schema(principal, id, version)?;
        let text = schema_docs::export_to_text(&stored.schema);
        Ok((stored, text))
    }

    /// The elements added, removed and changed from version `v1` to `v2` of `id`.
    pub fn diff_schema(
        &self,
        principal: &Principal,
        id: &str,
        v1: u32,
        v2: u32,
    ) -> Result<SchemaDiff> {
        require_reader(principal, "compare schema versions")?;
        let old = self.schema(principal, id, Some(v1))?;
        let new = self.schema(principal, id, Some(v2))?;
        Ok(schema_docs::diff(&old.schema, &new.schema))
    }
}

/// Schemas are the consultancy's knowledge: the schemas, generation and audit
/// zones read them; enterprise users see their ISMS, not the schemas.
fn require_reader(principal: &Principal, action: &str) -> Result<()> {
    principal.require_any(&[Zone::Schemas, Zone::Generation, Zone::Audit], action)?;
    Ok(())
}
