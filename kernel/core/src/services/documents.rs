//! Document control (issue 14.3): the documents in force of an ISMS (its
//! templates, instructions and regulations; registers are records, not
//! documents), their fill-in field values, versions, owner and approval.
//!
//! - `doc-fields/{isms}`: the values of the fill-in fields, by field id:
//!   completed once per ISMS and shared by every document that names them;
//! - `doc/{isms}/{doc}`: a document's [`DocumentControl`]: its owner and its
//!   versions. A version records the schema version and the field values it
//!   was made from, so an old one can be read again; an approved version is
//!   frozen: a change to its fields or its schema text after approval makes
//!   the next version, a draft.
//!
//! The kernel renders nothing (mmsm-reports does); it knows a document's
//! source only to see whether it changed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::Principal;
use mmsm_model::{ArtefactKind, Field, Period, Schema, DEFAULT_REVIEW};
use mmsm_store::{chain::hex, Repo};

use super::gsgs::IsmsRecord;
use super::msgs::{manages, SECURITY_OFFICER};
use super::{audit_detail, Kernel, Result, ServiceError, SPEAKER};

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocVersion {
    /// 1, 2, ...
    pub version: u32,
    /// The schema version whose text it renders.
    pub schema_version: u32,
    /// The values of its fill-in fields.
    pub fields: BTreeMap<String, String>,
    /// sha256 of the schema text and the values: what changed, when it differs.
    pub source: String,
    /// When it was made (seconds since the Unix epoch).
    pub at: u64,
    /// Who approved it and when; then it is frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<DocApproval>,
}

/// An approval of a document version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocApproval {
    /// The approver (a user of the ISMS).
    pub by: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// When it is due for review (YYYY-MM-DD).
    pub next_review: NaiveDate,
}

/// A document's control record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentControl {
    /// The user of the ISMS who keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its versions, oldest first.
    #[serde(default)]
    pub versions: Vec<DocVersion>,
}

/// What a document of an ISMS is: an artefact or a regulation of its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A template to fill in and sign.
    Template,
    /// A technical instruction.
    Instruction,
    /// A regulation: rules with their penalties.
    Regulation,
}

/// A document in force with where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRow {
    /// The artefact or regulation id.
    pub id: String,
    /// Template, instruction or regulation.
    pub kind: DocKind,
    /// Its title.
    pub title: String,
    /// The version it is at now (a change after approval makes the next one).
    pub version: u32,
    /// `draft`, `approved` or `review due`.
    pub state: &'static str,
    /// Its owner.
    pub owner: Option<String>,
    /// The last approval of the version it is at.
    pub approved: Option<DocApproval>,
    /// The labels of its required fill-in fields that are still empty.
    pub empty: Vec<String>,
    /// Its fill-in fields with their values.
    pub fields: Vec<FieldValue>,
}

/// A fill-in field of a document and its value in the ISMS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldValue {
    /// The field as the schema declares it.
    #[serde(flatten)]
    pub field: Field,
    /// Its value, empty when not filled.
    pub value: String,
}

/// A document's source in the schema: its title, kind, fields, review period
/// and a stable text of what it renders.
struct Source<'s> {
    kind: DocKind,
    title: &'s str,
    fields: &'s [Field],
    review: Option<Period>,
    text: String,
}

fn source<'s>(schema: &'s Schema, id: &str) -> Option<Source<'s>> {
    if let Some(a) = schema.artefacts.iter().find(|a| a.id.as_str() == id) {
        let kind = match a.kind {
            ArtefactKind::Template => DocKind::Template,
            ArtefactKind::Instruction => DocKind::Instruction,
            ArtefactKind::Register => return None,
        };
        return Some(Source {
            kind,
            title: &a.name,
            fields: &a.fields,
            review: a.review,
            text: a.body.clone().unwrap_or_default(),
        });
    }
    let r = schema.regulations.iter().find(|r| r.id.as_str() == id)?;
    Some(Source {
        kind: DocKind::Regulation,
        title: &r.name,
        fields: &r.fields,
        review: r.review,
        text: serde_json::to_string(&(&r.name, &r.description, &r.rules)).unwrap_or_default(),
    })
}

fn fields_key(isms: &str) -> String {
    format!("doc-fields/{isms}")
}

fn control_key(isms: &str, doc: &str) -> String {
    format!("doc/{isms}/{doc}")
}

/// The values of `fields` among `values` (empty ones left out).
fn values_of(fields: &[Field], values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|f| {
            values
                .get(&f.id)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (f.id.clone(), v.clone()))
        })
        .collect()
}

fn source_hash(text: &str, values: &BTreeMap<String, String>) -> String {
    let json = serde_json::to_string(&(text, values)).unwrap_or_default();
    hex(&Sha256::digest(json.as_bytes()))
}

/// The version a document is at now: its last one when nothing changed since
/// (or when it is a draft, which changes in place), else the next.
fn current_version(
    control: &DocumentControl,
    schema_version: u32,
    values: BTreeMap<String, String>,
    source: String,
    at: u64,
) -> (DocVersion, bool) {
    match control.versions.last() {
        Some(last) if last.source == source => (last.clone(), false),
        Some(last) if last.approved.is_none() => (
            DocVersion {
                schema_version,
                fields: values,
                source,
                at,
                ..last.clone()
            },
            false,
        ),
        last => (
            DocVersion {
                version: last.map_or(1, |l| l.version + 1),
                schema_version,
                fields: values,
                source,
                at,
                approved: None,
            },
            true,
        ),
    }
}

impl Kernel {
    /// The values of the fill-in fields of ISMS `record`.
    pub fn document_values(&self, record: &IsmsRecord) -> Result<BTreeMap<String, String>> {
        Ok(self
            .store()
            .get(Repo::Isms, &fields_key(record.id.as_str()))?
            .unwrap_or_default())
    }

    /// The control record of document `doc` of `record`.
    pub fn document_control(&self, record: &IsmsRecord, doc: &str) -> Result<DocumentControl> {
        Ok(self
            .store()
            .get(Repo::Isms, &control_key(record.id.as_str(), doc))?
            .unwrap_or_default())
    }

    /// The documents in force of ISMS `isms`: its templates and instructions
    /// and its regulations, each with its version, state, owner and the
    /// required fields still empty.
    pub fn list_documents(&self, principal: &Principal, isms: &str) -> Result<Vec<DocumentRow>> {
        let (record, schema) = self.isms_with_schema(principal, isms)?;
        self.documents_of(&record, &schema)
    }

    /// The documents in force of `record`, already read.
    pub fn documents_of(&self, record: &IsmsRecord, schema: &Schema) -> Result<Vec<DocumentRow>> {
        let values = self.document_values(record)?;
        let today = self.now_utc().date_naive();
        let mut ids: Vec<String> = record
            .instantiated
            .artefacts
            .iter()
            .map(|a| a.to_string())
            .collect();
        ids.extend(
            record
                .instantiated
                .regulations
                .iter()
                .map(|r| r.to_string()),
        );
        let mut rows = Vec::new();
        for id in ids {
            let Some(src) = source(schema, &id) else {
                continue;
            };
            let control = self.document_control(record, &id)?;
            rows.push(row(
                &id,
                src,
                &control,
                &values,
                schema.schema.version,
                today,
                self.now(),
            ));
        }
        Ok(rows)
    }

    /// Fills in fields of ISMS `isms` named by document `doc` (`field=value`;
    /// an empty value clears it) and, with `owner`, sets who keeps the
    /// document: the security officer or the consultant. Every document
    /// naming a changed field moves to a new draft version if it was approved.
    pub fn set_document(
        &self,
        principal: &Principal,
        isms: &str,
        doc: &str,
        values: &[(String, String)],
        owner: Option<String>,
    ) -> Result<DocumentRow> {
        for (_, value) in values {
            mmsm_model::check_length("a field's value", value, mmsm_model::MAX_TEXT)
                .map_err(ServiceError::Refused)?;
        }
        let now = self.now();
        self.store().write(|_, batch| {
            let record = self.officer(principal, isms, "fill in a document")?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let src = self.document_in_force(&record, &schema, doc)?;
            for (id, _) in values {
                if !src.fields.iter().any(|f| &f.id == id) {
                    let known: Vec<&str> = src.fields.iter().map(|f| f.id.as_str()).collect();
                    return Err(ServiceError::Refused(format!(
                        "`{id}` is not a field of {doc}; its fields are {}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            }
            if let Some(owner) = &owner {
                if !record.users.iter().any(|u| u.id.as_str() == owner) {
                    return Err(super::msgs::users::unknown_user(&record, owner));
                }
            }
            let mut all = self.document_values(&record)?;
            for (id, value) in values {
                if value.trim().is_empty() {
                    all.remove(id);
                } else {
                    all.insert(id.clone(), value.trim().to_owned());
                }
            }
            batch.put(Repo::Isms, fields_key(record.id.as_str()), &all);
            let mut control = self.document_control(&record, doc)?;
            if owner.is_some() {
                control.owner = owner.clone();
            }
            let (version, new) = current_version(
                &control,
                schema.schema.version,
                values_of(src.fields, &all),
                source_hash(&src.text, &values_of(src.fields, &all)),
                now,
            );
            if new {
                control.versions.push(version);
            } else if let Some(last) = control.versions.last_mut() {
                *last = version;
            } else {
                control.versions.push(version);
            }
            batch.put(Repo::Isms, control_key(record.id.as_str(), doc), &control);
            audit_detail(
                batch,
                principal,
                "isms.document.set",
                vec![record.id.to_string(), doc.to_owned()],
                Some(serde_json::json!({
                    "fields": values.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                    "owner": owner,
                })),
            );
            let today = self.now_utc().date_naive();
            Ok(row(
                doc,
                src,
                &control,
                &all,
                schema.schema.version,
                today,
                now,
            ))
        })
    }

    /// Approves the version document `doc` of ISMS `isms` is at: the
    /// enterprise's speaker (Int) or its security officer (Cl/RS), once every
    /// required field is filled. The version is frozen; its next review is a
    /// review period (the schema's, 1 year by default) from today.
    pub fn approve_document(
        &self,
        principal: &Principal,
        isms: &str,
        doc: &str,
    ) -> Result<DocumentRow> {
        let now = self.now();
        let today = self.now_utc().date_naive();
        self.store().write(|_, batch| {
            let record = self.isms(principal, isms)?;
            record.ensure_open()?;
            let approver = record.users.iter().any(|u| {
                u.id.as_str() == principal.user
                    && u.roles
                        .iter()
                        .any(|r| r.as_str() == SPEAKER || r.as_str() == SECURITY_OFFICER)
            });
            if !approver {
                return Err(ServiceError::Refused(format!(
                    "a document of {} is approved by its speaker (Int) or its security officer (Cl/RS), users of the ISMS; `{}` is neither",
                    record.id, principal.user
                )));
            }
            let schema = self.isms_schema(&record)?;
            let src = self.document_in_force(&record, &schema, doc)?;
            let all = self.document_values(&record)?;
            let empty: Vec<&str> = src
                .fields
                .iter()
                .filter(|f| f.required && all.get(&f.id).is_none_or(|v| v.trim().is_empty()))
                .map(|f| f.label.as_str())
                .collect();
            if !empty.is_empty() {
                return Err(ServiceError::Refused(format!(
                    "{doc} cannot be approved while fields are empty: {}; fill them in first (`mmsm isms docs set`)",
                    empty.join("; ")
                )));
            }
            let mut control = self.document_control(&record, doc)?;
            let values = values_of(src.fields, &all);
            let (mut version, new) = current_version(
                &control,
                schema.schema.version,
                values.clone(),
                source_hash(&src.text, &values),
                now,
            );
            if version.approved.is_some() {
                return Err(ServiceError::Refused(format!(
                    "version {} of {doc} is approved already, by {}",
                    version.version,
                    version.approved.as_ref().map_or("", |a| a.by.as_str())
                )));
            }
            let review = src
                .review
                .unwrap_or_else(|| DEFAULT_REVIEW.parse().expect("a valid period"));
            version.approved = Some(DocApproval {
                by: principal.user.clone(),
                at: now,
                next_review: today + chrono::Duration::seconds(review.seconds() as i64),
            });
            if new || control.versions.is_empty() {
                control.versions.push(version.clone());
            } else if let Some(last) = control.versions.last_mut() {
                *last = version.clone();
            }
            batch.put(Repo::Isms, control_key(record.id.as_str(), doc), &control);
            audit_detail(
                batch,
                principal,
                "isms.document.approve",
                vec![record.id.to_string(), doc.to_owned()],
                Some(serde_json::json!({ "version": version.version, "source": version.source })),
            );
            Ok(row(doc, src, &control, &all, schema.schema.version, today, now))
        })
    }

    /// The documents of `record` past their review date, by title.
    pub fn documents_due(&self, record: &IsmsRecord, schema: &Schema) -> Result<Vec<String>> {
        Ok(self
            .documents_of(record, schema)?
            .into_iter()
            .filter(|d| d.state == "review due")
            .map(|d| d.title)
            .collect())
    }

    fn document_in_force<'s>(
        &self,
        record: &IsmsRecord,
        schema: &'s Schema,
        doc: &str,
    ) -> Result<Source<'s>> {
        let in_force = record
            .instantiated
            .artefacts
            .iter()
            .any(|a| a.as_str() == doc)
            || record
                .instantiated
                .regulations
                .iter()
                .any(|r| r.as_str() == doc);
        match source(schema, doc).filter(|_| in_force) {
            Some(src) => Ok(src),
            None => Err(ServiceError::NotFound {
                kind: "document",
                id: doc.to_owned(),
                hint: format!(
                    " in force in ISMS {}; `mmsm isms docs list {}` lists them",
                    record.id, record.id
                ),
            }),
        }
    }
}

/// Whether `principal` may fill in and own documents of an ISMS.
pub fn edits_documents(principal: &Principal) -> bool {
    manages(principal)
}

fn row(
    id: &str,
    src: Source<'_>,
    control: &DocumentControl,
    all: &BTreeMap<String, String>,
    schema_version: u32,
    today: NaiveDate,
    now: u64,
) -> DocumentRow {
    let values = values_of(src.fields, all);
    let (version, _) = current_version(
        control,
        schema_version,
        values,
        source_hash(&src.text, &values_of(src.fields, all)),
        now,
    );
    let state = match &version.approved {
        Some(a) if a.next_review < today => "review due",
        Some(_) => "approved",
        None => "draft",
    };
    DocumentRow {
        id: id.to_owned(),
        kind: src.kind,
        title: src.title.to_owned(),
        version: version.version,
        state,
        owner: control.owner.clone(),
        approved: version.approved.clone(),
        empty: src
            .fields
            .iter()
            .filter(|f| f.required && all.get(&f.id).is_none_or(|v| v.trim().is_empty()))
            .map(|f| f.label.clone())
            .collect(),
        fields: src
            .fields
            .iter()
            .map(|f| FieldValue {
                field: f.clone(),
                value: all.get(&f.id).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;
    use chrono::{Duration, Utc};
    use mmsm_store::Store;

    #[test]
    fn an_approved_document_falls_due_for_review_and_a_change_makes_the_next_version() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = &ids[0];
        let ana = k.principal_for(id, "ana").unwrap();
        let luis = k.principal_for(id, "luis").unwrap();
        let set = |k: &Kernel, phone: &str| {
            k.set_document(
                &ana,
                id,
                "security-policy",
                &[("security_phone".into(), phone.into())],
                None,
            )
            .unwrap()
        };
        match k.approve_document(&ana, id, "security-policy") {
            Err(ServiceError::Refused(m)) => assert!(m.contains("fields are empty"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(set(&k, "600 000 000").version, 1);
        // A draft changes in place.
        assert_eq!(set(&k, "600 000 001").version, 1);
        assert!(matches!(
            k.approve_document(&luis, id, "security-policy"),
            Err(ServiceError::Refused(_))
        ));
        let approved = k.approve_document(&ana, id, "security-policy").unwrap();
        assert_eq!((approved.version, approved.state), (1, "approved"));
        // Setting the same value changes nothing; a new one makes version 2.
        assert_eq!(set(&k, "600 000 001").state, "approved");
        let next = set(&k, "600 000 002");
        assert_eq!((next.version, next.state), (2, "draft"));
        k.approve_document(&ana, id, "security-policy").unwrap();
        // A year on it is due for review, on the board's list too.
        let later = Kernel::new(k.store().clone()).with_clock(Utc::now() + Duration::days(367));
        let (record, schema) = later.isms_with_schema(&ana, id).unwrap();
        let rows = later.documents_of(&record, &schema).unwrap();
        let policy = rows.iter().find(|d| d.id == "security-policy").unwrap();
        assert_eq!(policy.state, "review due");
        assert_eq!(
            later.documents_due(&record, &schema).unwrap(),
            vec!["Security policy".to_owned()]
        );
        let control = k.document_control(&record, "security-policy").unwrap();
        assert_eq!(control.versions.len(), 2);
        assert_eq!(control.versions[0].fields["security_phone"], "600 000 001");
        // A document that is not in force cannot be filled in.
        assert!(matches!(
            k.set_document(&ana, id, "tpl-nothing", &[], Some("ana".into())),
            Err(ServiceError::NotFound { .. })
        ));
    }
}
