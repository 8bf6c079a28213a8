//! The maintenance fixture of the unit tests: the `msgs` schema of
//! `tests/fixtures/msgs` and its profile, imported and generated into a store.

use std::path::Path;

use mmsm_model::Profile;
use mmsm_schema::profiles;
use mmsm_store::Store;

use super::Kernel;
use crate::access::Principal;

/// The `msgs` schema's folder.
pub(crate) const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/msgs");
/// Its profile (the enterprise "Taller Gil").
pub(crate) const PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/msgs-profile.yaml"
);

/// The fixture's profile.
pub(crate) fn profile() -> Profile {
    profiles::read_profile(Path::new(PROFILE)).unwrap()
}

/// A kernel over `store` with the `msgs` schema imported and one ISMS
/// generated from the profile per name in `names`; their ids, in order.
pub(crate) fn msgs_kernel(store: Store, names: &[&str]) -> (Kernel, Vec<String>) {
    let kernel = Kernel::new(store);
    let local = Principal::local_operator();
    let schema = mmsm_schema::load_path(Path::new(FIXTURE)).unwrap().schema;
    kernel.import_schema(&local, schema).unwrap();
    let ids = names
        .iter()
        .map(|name| {
            let mut p = profile();
            p.enterprise.name = (*name).to_owned();
            kernel
                .generate_isms(&local, p, None, Some("msgs"))
                .unwrap()
                .id
                .to_string()
        })
        .collect();
    (kernel, ids)
}
