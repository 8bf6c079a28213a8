//! Principals, roles and zones (DESIGN.md 8).
//!
//! Every service call carries the acting [`Principal`]; the services check it
//! against the zone of the operation. The roles map to zones as in the paper
//! (section 4): the schemas zone belongs to AGS and GED, generation to CoS,
//! audit to AuS, and maintenance to the enterprise's users (`Cl/...`).

use std::collections::BTreeSet;

use serde::Serialize;

use mmsm_model::{RoleId, Zone};

/// Who acts: a user id, the roles it holds, and the enterprises it may see.
///
/// Which ISMSs a principal sees (DESIGN.md 8, issue 8): an administrator every
/// one; an enterprise user (bound to an ISMS) only that one; a consultancy
/// user the ISMSs assigned to it (whoever generates an ISMS is assigned to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The user id (`local` for the local operator of the CLI).
    pub user: String,
    /// The roles held.
    pub roles: BTreeSet<RoleId>,
    /// An administrator: sees every ISMS and manages accounts.
    #[serde(default)]
    pub admin: bool,
    /// The ISMS an enterprise user belongs to; `None` for consultancy users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
}

/// The paper's consultancy actors and client profiles, with their zones.
pub const ROLE_ZONES: [(&str, Zone); 16] = [
    ("AGS", Zone::Schemas),
    ("GED", Zone::Schemas),
    ("CoS", Zone::Generation),
    ("AuS", Zone::Audit),
    ("Int", Zone::Client),
    ("Cl/RS", Zone::Maintenance),
    ("Cl/US", Zone::Maintenance),
    ("Cl/GDS", Zone::Maintenance),
    ("Cl/PS", Zone::Maintenance),
    ("Cl/PA", Zone::Maintenance),
    ("Cl/GD", Zone::Maintenance),
    ("Cl/RD", Zone::Maintenance),
    ("Cl/RE", Zone::Maintenance),
    ("Cl/RM", Zone::Maintenance),
    ("Cl/RR", Zone::Maintenance),
    ("Cl/T", Zone::Maintenance),
];

/// The zone of a role of the paper, if it is one.
pub fn zone_of(role: &str) -> Option<Zone> {
    ROLE_ZONES.iter().find(|(r, _)| *r == role).map(|(_, z)| *z)
}

/// The roles that open a zone, for messages ("needs AGS or GED").
pub fn roles_of(zone: Zone) -> Vec<&'static str> {
    ROLE_ZONES
        .iter()
        .filter(|(_, z)| *z == zone)
        .map(|(r, _)| *r)
        .collect()
}

/// A principal lacks the zone an operation needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{user}` may not {action}: it needs a role of the {zone} zone ({needs}), and holds {held}"
)]
pub struct Forbidden {
    /// The user refused.
    pub user: String,
    /// What it tried.
    pub action: String,
    /// The zone needed.
    pub zone: String,
    /// The roles that would do.
    pub needs: String,
    /// The roles it holds.
    pub held: String,
}

impl Principal {
    /// A principal with `roles`.
    pub fn new(
        user: impl Into<String>,
        roles: impl IntoIterator<Item = impl Into<RoleId>>,
    ) -> Self {
        Principal {
            user: user.into(),
            roles: roles.into_iter().map(Into::into).collect(),
            admin: false,
            enterprise: None,
        }
    }

    /// The same principal as an administrator.
    pub fn as_admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// The same principal bound to the ISMS `isms` (an enterprise user).
    pub fn bound_to(mut self, isms: impl Into<String>) -> Self {
        self.enterprise = Some(isms.into());
        self
    }

    /// The local operator of the CLI: holds every role of the paper and sees
    /// every ISMS (whoever runs the binary on the store's folder owns it).
    pub fn local_operator() -> Self {
        Principal::new("local", ROLE_ZONES.iter().map(|(r, _)| *r)).as_admin()
    }

    /// Whether this is the command line's local operator (no account can be
    /// named `local`: the name is reserved).
    pub fn is_local_operator(&self) -> bool {
        self.user == "local" && self.admin
    }

    /// The kernel itself (loading the shipped schemas on first use).
    pub fn system() -> Self {
        Principal::new("system", ROLE_ZONES.iter().map(|(r, _)| *r)).as_admin()
    }

    /// Whether the principal holds a consultancy role (schemas, generation or audit zone).
    pub fn is_consultancy(&self) -> bool {
        self.enterprise.is_none()
            && (self.has_zone(Zone::Schemas)
                || self.has_zone(Zone::Generation)
                || self.has_zone(Zone::Audit))
    }

    /// Refuses unless the principal holds a role of one of `zones`.
    pub fn require_any(&self, zones: &[Zone], action: &str) -> Result<(), Forbidden> {
        let mut first = None;
        for zone in zones {
            match self.require(*zone, action) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        match first {
            Some(mut e) => {
                if zones.len() > 1 {
                    e.zone = zones
                        .iter()
                        .map(|z| format!("{z:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join(" or ");
                    e.needs = zones
                        .iter()
                        .flat_map(|z| roles_of(*z))
                        .collect::<Vec<_>>()
                        .join(" or ");
                }
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Refuses unless the principal is an administrator.
    pub fn require_admin(&self, action: &str) -> Result<(), Forbidden> {
        if self.admin {
            return Ok(());
        }
        Err(Forbidden {
            user: self.user.clone(),
            action: action.to_owned(),
            zone: "administration".into(),
            needs: "an administrator account (mmsm user add NAME --admin)".into(),
            held: "no administrator right".into(),
        })
    }

    /// The zones the principal's roles open.
    pub fn zones(&self) -> BTreeSet<Zone> {
        self.roles
            .iter()
            .filter_map(|r| zone_of(r.as_str()))
            .collect()
    }

    /// Whether the principal holds a role of `zone`.
    pub fn has_zone(&self, zone: Zone) -> bool {
        self.zones().contains(&zone)
    }

    /// Refuses unless the principal holds a role of `zone`.
    pub fn require(&self, zone: Zone, action: &str) -> Result<(), Forbidden> {
        if self.has_zone(zone) {
            return Ok(());
        }
        let held = if self.roles.is_empty() {
            "no role".to_owned()
        } else {
            self.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(Forbidden {
            user: self.user.clone(),
            action: action.to_owned(),
            zone: format!("{zone:?}").to_lowercase(),
            needs: roles_of(zone).join(" or "),
            held,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_schema_roles_open_the_schemas_zone() {
        assert!(Principal::new("ana", ["AGS"])
            .require(Zone::Schemas, "import a schema")
            .is_ok());
        assert!(Principal::new("gus", ["GED"])
            .require(Zone::Schemas, "import a schema")
            .is_ok());
        let err = Principal::new("carl", ["CoS", "Cl/RS"])
            .require(Zone::Schemas, "import a schema")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`carl` may not import a schema: it needs a role of the schemas zone (AGS or GED), and holds Cl/RS, CoS"
        );
        let nobody = Principal::new("nobody", Vec::<String>::new());
        assert!(nobody
            .require(Zone::Schemas, "clone a schema")
            .unwrap_err()
            .to_string()
            .contains("holds no role"));
    }

    #[test]
    fn the_local_operator_holds_every_zone() {
        let local = Principal::local_operator();
        for zone in [
            Zone::Schemas,
            Zone::Generation,
            Zone::Maintenance,
            Zone::Audit,
            Zone::Client,
        ] {
            assert!(local.has_zone(zone), "{zone:?}");
        }
    }
}
