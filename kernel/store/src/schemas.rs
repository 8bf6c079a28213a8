//! The schemas repository: immutable schema versions, keyed `schema/{id}/{version}`.

use serde::{Deserialize, Serialize};

use mmsm_model::{Schema, SchemaId};

use super::{Batch, Repo, Store, StoreError};

/// A schema version as stored, with when it was stored and by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSchema {
    /// The schema; its header's version is the stored version.
    pub schema: Schema,
    /// Seconds since the Unix epoch when it was stored.
    pub stored_at: u64,
    /// The user who stored it.
    pub stored_by: String,
}

/// One line of `schema list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaSummary {
    /// The schema id.
    pub id: SchemaId,
    /// The latest version.
    pub version: u32,
    /// Its name.
    pub name: String,
}

fn key(id: &str, version: u32) -> String {
    format!("schema/{id}/{version:010}")
}

fn prefix(id: &str) -> String {
    format!("schema/{id}/")
}

impl Store {
    /// Every version number of schema `id`, ascending.
    pub fn schema_versions(&self, id: &str) -> Result<Vec<u32>, StoreError> {
        Ok(self
            .keys(Repo::Schemas, &prefix(id))?
            .iter()
            .filter_map(|k| k.rsplit('/').next()?.parse().ok())
            .collect())
    }

    /// Version `version` of schema `id`, or its latest version when `None`.
    pub fn schema(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredSchema>, StoreError> {
        let version = match version {
            Some(v) => v,
            None => match self.schema_versions(id)?.last() {
                Some(v) => *v,
                None => return Ok(None),
            },
        };
        self.get(Repo::Schemas, &key(id, version))
    }

    /// The ids of every stored schema, in order.
    pub fn schema_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = self
            .keys(Repo::Schemas, "schema/")?
            .iter()
            .filter_map(|k| k.split('/').nth(1).map(str::to_owned))
            .collect();
        ids.dedup();
        Ok(ids)
    }

    /// Whether the schemas repository is empty (a store on its first use).
    pub fn has_no_schema(&self) -> Result<bool, StoreError> {
        Ok(self.keys(Repo::Schemas, "schema/")?.is_empty())
    }
}

impl Batch {
    /// Stores a schema version; its header's version is the key.
    pub fn put_schema(&mut self, stored: &StoredSchema) {
        let header = &stored.schema.schema;
        self.put(
            Repo::Schemas,
            key(header.id.as_str(), header.version),
            stored,
        );
    }
}
