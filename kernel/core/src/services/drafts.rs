//! Drafts of the generation form (save-as-you-go, issue 8): what a
//! consultant has typed for a new enterprise before it is generated, kept per
//! account in the information repository (`draft/{user}`), so that a closed
//! tab, a lost connection or a failed generation loses nothing. A draft is
//! the form's fields as sent, without meaning to the kernel until generation
//! reads them; it is not an ISMS mutation, so it leaves no audit record.

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_model::Zone;
use mmsm_store::Repo;

use super::{Kernel, Result, ServiceError};

/// The most fields a draft keeps (the base schema's form has about 330).
pub const MAX_DRAFT_FIELDS: usize = 2_000;
/// The longest value a draft keeps.
pub const MAX_DRAFT_VALUE: usize = 4_000;

/// A saved generation form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// When it was saved (seconds since the Unix epoch).
    pub saved_at: u64,
    /// The form's fields in order, as (name, value).
    pub fields: Vec<(String, String)>,
}

impl Draft {
    /// The value of field `name`, if the draft has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn key(principal: &Principal) -> String {
    format!("draft/{}", principal.user)
}

impl Kernel {
    /// Saves the principal's draft of a new enterprise, replacing the last one.
    /// Empty values are dropped; a form beyond the limits is refused whole.
    pub fn save_draft(
        &self,
        principal: &Principal,
        fields: Vec<(String, String)>,
    ) -> Result<Draft> {
        principal.require(Zone::Generation, "save a draft of a new enterprise")?;
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .filter(|(n, v)| n != "csrf" && !v.trim().is_empty())
            .collect();
        if fields.len() > MAX_DRAFT_FIELDS {
            return Err(ServiceError::Refused(format!(
                "a draft keeps at most {MAX_DRAFT_FIELDS} fields, and this form has {}",
                fields.len()
            )));
        }
        if let Some((name, _)) = fields.iter().find(|(_, v)| v.len() > MAX_DRAFT_VALUE) {
            return Err(ServiceError::Refused(format!(
                "field `{name}` is longer than the {MAX_DRAFT_VALUE} characters a draft keeps"
            )));
        }
        let draft = Draft {
            saved_at: self.now(),
            fields,
        };
        self.store().write(|_, batch| {
            batch.put(Repo::Info, key(principal), &draft);
            Ok::<_, ServiceError>(())
        })?;
        Ok(draft)
    }

    /// The principal's draft, if one is saved.
    pub fn draft(&self, principal: &Principal) -> Result<Option<Draft>> {
        principal.require(Zone::Generation, "read a draft of a new enterprise")?;
        Ok(self.store().get(Repo::Info, &key(principal))?)
    }

    /// Forgets the principal's draft (after a generation, or when asked).
    pub fn discard_draft(&self, principal: &Principal) -> Result<()> {
        principal.require(Zone::Generation, "discard a draft of a new enterprise")?;
        self.store().write(|_, batch| {
            batch.delete(Repo::Info, key(principal));
            Ok::<_, ServiceError>(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_store::Store;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_draft_is_kept_per_account_until_discarded() {
        let kernel = Kernel::new(Store::temporary().unwrap());
        let cos = Principal::new("cos", ["CoS"]);
        let other = Principal::new("cos2", ["CoS"]);
        let saved = kernel
            .save_draft(
                &cos,
                pairs(&[
                    ("csrf", "x"),
                    ("name", "Acme"),
                    ("sector", ""),
                    ("sc.5.1.1", "yes"),
                ]),
            )
            .unwrap();
        assert_eq!(
            saved.fields,
            pairs(&[("name", "Acme"), ("sc.5.1.1", "yes")])
        );
        let read = kernel.draft(&cos).unwrap().unwrap();
        assert_eq!(read.get("name"), Some("Acme"));
        assert_eq!(read.get("csrf"), None);
        assert!(
            kernel.draft(&other).unwrap().is_none(),
            "drafts are per account"
        );
        kernel.discard_draft(&cos).unwrap();
        assert!(kernel.draft(&cos).unwrap().is_none());
    }

    #[test]
    fn only_the_generation_zone_drafts_and_oversized_forms_are_refused() {
        let kernel = Kernel::new(Store::temporary().unwrap());
        let user = Principal::new("us", ["Cl/US"]);
        assert!(matches!(
            kernel.save_draft(&user, pairs(&[("name", "x")])),
            Err(ServiceError::Forbidden(_))
        ));
        let cos = Principal::new("cos", ["CoS"]);
        let long = "x".repeat(MAX_DRAFT_VALUE + 1);
        let refused = kernel
            .save_draft(&cos, vec![("name".into(), long)])
            .unwrap_err();
        assert!(refused.to_string().contains("`name`"), "{refused}");
        assert!(kernel.draft(&cos).unwrap().is_none(), "nothing was kept");
    }
}
