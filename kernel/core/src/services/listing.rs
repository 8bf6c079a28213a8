//! The summary index of the ISMSs (issue 12): one small row per ISMS at
//! `summary/{id}` in the isms repository, written in the same transaction as
//! every write of the ISMS record ([`put_isms`]), so that listings never
//! decode whole ISMS records and a page of them reads only that page's rows.

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_model::{IsmsId, SectorId, SubControlId, UserId};
use mmsm_store::{Batch, Repo, Store, StoreError};

use super::stored;
use super::{IsmsListing, IsmsRecord, Kernel, Result, ServiceError};

/// The prefix of the summary rows.
const SUMMARY: &str = "summary/";
/// Set once every ISMS has its summary row (stores made before the index get
/// theirs on the first listing).
const INDEXED: &str = "index/summary";

/// One ISMS in the summary index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsmsSummary {
    /// The id.
    pub id: IsmsId,
    /// The enterprise's name.
    pub name: String,
    /// Its sector.
    pub sector: SectorId,
    /// The schema and version, `base@1`.
    pub schema: String,
    /// ISMS compliance, 0..100.
    pub compliance: Option<f64>,
    /// Current maturity level.
    pub current: u8,
    /// Target maturity level.
    pub target: u8,
    /// The highest residual risk.
    pub risk: f64,
    /// When the ISMS was last written (seconds since the Unix epoch).
    pub updated_at: u64,
    /// Who generated it (for access).
    pub created_by: String,
    /// Its users' ids (for access).
    pub users: Vec<UserId>,
    /// The record's revision (read by a change to tell whether the kernel's
    /// live copy is current without decoding the record).
    #[serde(default)]
    pub revision: u64,
}

impl IsmsSummary {
    fn of(record: &IsmsRecord, updated_at: u64) -> Self {
        IsmsSummary {
            id: record.id.clone(),
            name: record.enterprise.name.clone(),
            sector: record.enterprise.sector.clone(),
            schema: format!("{}@{}", record.schema.id, record.schema.version),
            compliance: record.board.compliance,
            current: record.board.maturity.current,
            target: record.board.maturity.target,
            risk: record.board.risk.max,
            updated_at,
            created_by: record.created_by.clone(),
            users: record.users.iter().map(|u| u.id.clone()).collect(),
            revision: record.revision,
        }
    }

    fn listing(self) -> IsmsListing {
        IsmsListing {
            id: self.id,
            name: self.name,
            sector: self.sector,
            schema: self.schema,
            compliance: self.compliance,
            current: self.current,
            target: self.target,
        }
    }

    fn matches(&self, filter: &str) -> bool {
        [
            self.id.as_str(),
            self.name.as_str(),
            self.sector.as_str(),
            self.schema.as_str(),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(filter))
    }
}

/// Stores an ISMS record and its summary row in `batch`, with a new revision
/// (the key of the kernel's engine cache). Every write of an ISMS record goes
/// through here or through [`put_answer`].
pub(crate) fn put_isms(batch: &mut Batch, record: &mut IsmsRecord, now: u64) {
    record.revision = new_revision(record.revision);
    stored::write_whole(batch, record);
    put_summary(batch, record, now);
}

/// Like [`put_isms`] after `record` changed only in `subcontrol`'s answer (and
/// what the engine derives from it): writes that answer's part and the board,
/// not the whole record. Only for a record whose head is in the current
/// layout ([`stored::Read::current_format`]).
pub(crate) fn put_answer(
    batch: &mut Batch,
    record: &mut IsmsRecord,
    subcontrol: &SubControlId,
    now: u64,
) {
    record.revision = new_revision(record.revision);
    stored::write_answer(batch, record, subcontrol);
    put_summary(batch, record, now);
}

fn put_summary(batch: &mut Batch, record: &IsmsRecord, now: u64) {
    batch.put(
        Repo::Isms,
        summary_key(record.id.as_str()),
        &IsmsSummary::of(record, now),
    );
}

/// The revision in ISMS `id`'s summary row, if it has one.
pub(crate) fn summary_revision(store: &Store, id: &str) -> Result<Option<u64>, StoreError> {
    Ok(store
        .get::<IsmsSummary>(Repo::Isms, &summary_key(id))?
        .map(|s| s.revision))
}

/// A revision no earlier write of this record had: random, so that a batch
/// that failed after its engine was cached can never be mistaken for a
/// later one that landed.
fn new_revision(old: u64) -> u64 {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system provides randomness");
        let revision = u64::from_le_bytes(bytes);
        if revision != old && revision != 0 {
            return revision;
        }
    }
}

/// Marks the summary index complete (in the batch of a store's first ISMS).
pub(crate) fn mark_indexed(batch: &mut Batch) {
    batch.put(Repo::Isms, INDEXED, &1u32);
}

fn summary_key(id: &str) -> String {
    format!("{SUMMARY}{id}")
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IsmsSort {
    /// By id (the index's own order: pages read only their rows).
    #[default]
    Id,
    /// By enterprise name.
    Name,
    /// Lowest compliance first.
    Compliance,
    /// Highest residual risk first.
    Risk,
    /// Most recently written first.
    Updated,
}

impl std::str::FromStr for IsmsSort {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "id" => Ok(IsmsSort::Id),
            "name" => Ok(IsmsSort::Name),
            "compliance" => Ok(IsmsSort::Compliance),
            "risk" => Ok(IsmsSort::Risk),
            "updated" => Ok(IsmsSort::Updated),
            other => Err(format!(
                "`{other}` is not an order: expected id, name, compliance, risk or updated"
            )),
        }
    }
}

/// Which ISMSs a listing shows.
#[derive(Debug, Clone, Default)]
pub struct IsmsQuery {
    /// At most this many (all when `None`).
    pub limit: Option<usize>,
    /// Those after the ISMS with this id, in the listing's order.
    pub after: Option<String>,
    /// Only those whose id, name, sector or schema contains this text (any case).
    pub filter: Option<String>,
    /// The order.
    pub sort: IsmsSort,
}

/// A page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IsmsPage {
    /// The ISMSs of the page.
    pub items: Vec<IsmsListing>,
    /// The id to ask `after` for the next page, when more remain.
    pub next: Option<IsmsId>,
}

/// Summary rows read per store scan when paging in id order.
const CHUNK: usize = 256;

impl Kernel {
    /// Every ISMS the principal may see, by id.
    pub fn list_isms(&self, principal: &Principal) -> Result<Vec<IsmsListing>> {
        Ok(self.list_isms_page(principal, &IsmsQuery::default())?.items)
    }

    /// A page of the ISMSs the principal may see (`mmsm isms list`, `GET
    /// /api/v1/isms`, the `/isms` page). In id order without a filter it reads
    /// the summary rows of the page (and those the principal may not see), not
    /// the whole index; other orders sort the summary rows, never the records.
    pub fn list_isms_page(&self, principal: &Principal, query: &IsmsQuery) -> Result<IsmsPage> {
        self.ensure_summary_index()?;
        let filter = query.filter.as_deref().map(str::to_lowercase);
        let wanted = |s: &IsmsSummary| {
            filter.as_deref().is_none_or(|f| s.matches(f)) && self.may_see_summary(principal, s)
        };
        let limit = query.limit.unwrap_or(usize::MAX).max(1);
        let mut rows: Vec<IsmsSummary> = Vec::new();
        if query.sort == IsmsSort::Id {
            // Read in chunks until one more than the page is found.
            let mut cursor = query.after.as_deref().map(summary_key);
            loop {
                let chunk: Vec<(String, IsmsSummary)> =
                    self.store()
                        .scan_page(Repo::Isms, SUMMARY, cursor.as_deref(), CHUNK)?;
                let done = chunk.len() < CHUNK;
                cursor = chunk.last().map(|(key, _)| key.clone());
                rows.extend(chunk.into_iter().map(|(_, s)| s).filter(&wanted));
                if done || rows.len() > limit {
                    break;
                }
            }
        } else {
            rows = self
                .store()
                .scan::<IsmsSummary>(Repo::Isms, SUMMARY)?
                .into_iter()
                .map(|(_, s)| s)
                .filter(&wanted)
                .collect();
            sort(&mut rows, query.sort);
            if let Some(after) = &query.after {
                match rows.iter().position(|s| s.id.as_str() == after) {
                    Some(at) => {
                        rows.drain(..=at);
                    }
                    None => {
                        return Err(ServiceError::NotFound {
                            kind: "ISMS",
                            id: after.clone(),
                            hint: " in this listing (the cursor `after` names the last ISMS of the previous page)".into(),
                        })
                    }
                }
            }
        }
        let next = (rows.len() > limit).then(|| rows[limit - 1].id.clone());
        rows.truncate(limit);
        Ok(IsmsPage {
            items: rows.into_iter().map(IsmsSummary::listing).collect(),
            next,
        })
    }

    /// The stored revision of ISMS `id`, from its summary row.
    pub(crate) fn stored_revision(&self, id: &str) -> Result<Option<u64>> {
        Ok(summary_revision(self.store(), id)?)
    }

    /// Writes the summary row of every ISMS once, for stores made before the
    /// index existed, in one transaction.
    fn ensure_summary_index(&self) -> Result<()> {
        if self.store().get::<u32>(Repo::Isms, INDEXED)?.is_some() {
            return Ok(());
        }
        let now = self.now();
        self.store().write(|store, batch| {
            if store.get::<u32>(Repo::Isms, INDEXED)?.is_some() {
                return Ok(());
            }
            for id in stored::ids(store)? {
                let read = stored::read(
                    store,
                    &id,
                    || summary_revision(store, &id),
                    |parts| self.derived_board(parts),
                )?;
                let Some(stored::Read { record, .. }) = read else {
                    continue;
                };
                let updated = if record.created_at > 0 {
                    record.created_at
                } else {
                    now
                };
                put_summary(batch, &record, updated);
            }
            batch.put(Repo::Isms, INDEXED, &1u32);
            Ok::<_, ServiceError>(())
        })
    }
}

fn sort(rows: &mut [IsmsSummary], order: IsmsSort) {
    let by_id = |a: &IsmsSummary, b: &IsmsSummary| a.id.as_str().cmp(b.id.as_str());
    match order {
        IsmsSort::Id => rows.sort_by(by_id),
        IsmsSort::Name => rows.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| by_id(a, b))
        }),
        IsmsSort::Compliance => rows.sort_by(|a, b| {
            let key = |s: &IsmsSummary| s.compliance.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b)).then_with(|| by_id(a, b))
        }),
        IsmsSort::Risk => rows.sort_by(|a, b| b.risk.total_cmp(&a.risk).then_with(|| by_id(a, b))),
        IsmsSort::Updated => {
            rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| by_id(a, b)))
        }
    }
}

#[cfg(test)]
mod tests {
    use mmsm_engine::Change;
    use mmsm_model::{Answer, Profile, SubControlId};
    use mmsm_store::Store;

    use super::super::fixture;
    use super::*;

    fn kernel_with(names: &[&str]) -> (Kernel, Profile) {
        let (kernel, _) = fixture::msgs_kernel(Store::temporary().unwrap(), names);
        (kernel, fixture::profile())
    }

    fn ids(page: &IsmsPage) -> Vec<&str> {
        page.items.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn pages_follow_the_id_order_and_name_the_next_cursor() {
        let names = ["Delta", "Alpha", "Echo", "Bravo", "Charlie"];
        let (kernel, _) = kernel_with(&names);
        let local = Principal::local_operator();
        let query = |after: Option<&str>| IsmsQuery {
            limit: Some(2),
            after: after.map(str::to_owned),
            ..IsmsQuery::default()
        };
        let first = kernel.list_isms_page(&local, &query(None)).unwrap();
        assert_eq!(ids(&first), ["alpha", "bravo"]);
        assert_eq!(first.next.as_ref().unwrap().as_str(), "bravo");
        let second = kernel
            .list_isms_page(&local, &query(Some("bravo")))
            .unwrap();
        assert_eq!(ids(&second), ["charlie", "delta"]);
        let last = kernel
            .list_isms_page(&local, &query(Some("delta")))
            .unwrap();
        assert_eq!(ids(&last), ["echo"]);
        assert_eq!(last.next, None);
        // Without a limit, everything, as the whole listing always did.
        assert_eq!(kernel.list_isms(&local).unwrap().len(), 5);
    }

    #[test]
    fn filters_and_orders_read_the_summaries_and_follow_every_write() {
        let (kernel, _) = kernel_with(&["Clinic North", "Clinic South", "Bakery"]);
        let local = Principal::local_operator();
        let filtered = kernel
            .list_isms_page(
                &local,
                &IsmsQuery {
                    filter: Some("CLINIC".into()),
                    ..IsmsQuery::default()
                },
            )
            .unwrap();
        assert_eq!(ids(&filtered), ["clinic-north", "clinic-south"]);

        // An answer moves compliance; the summary follows in the same write.
        let record = kernel.isms(&local, "bakery").unwrap();
        let sub = record.inputs.answers.keys().next().unwrap().clone();
        let before = record.board.compliance;
        let answer = match record.inputs.answers[&sub] {
            Answer::Yes => Answer::No,
            _ => Answer::Yes,
        };
        kernel
            .update_isms(
                &local,
                "bakery",
                Change::Answer {
                    subcontrol: SubControlId::new(sub.as_str()),
                    answer: Some(answer),
                },
                "answer",
            )
            .unwrap();
        let after = kernel.isms(&local, "bakery").unwrap().board.compliance;
        assert_ne!(before, after);
        let listed = kernel.list_isms(&local).unwrap();
        let row = listed.iter().find(|i| i.id.as_str() == "bakery").unwrap();
        assert_eq!(row.compliance, after);

        let by_compliance = kernel
            .list_isms_page(
                &local,
                &IsmsQuery {
                    sort: IsmsSort::Compliance,
                    ..IsmsQuery::default()
                },
            )
            .unwrap();
        let values: Vec<f64> = by_compliance
            .items
            .iter()
            .map(|i| i.compliance.unwrap())
            .collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        let err = kernel
            .list_isms_page(
                &local,
                &IsmsQuery {
                    sort: IsmsSort::Name,
                    after: Some("nowhere".into()),
                    ..IsmsQuery::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("nowhere"), "{err}");
    }

    #[test]
    fn a_listing_shows_only_what_the_principal_may_see() {
        let (kernel, profile) = kernel_with(&["Alpha", "Bravo"]);
        let user = profile.users[0].id.to_string();
        let stranger = Principal::new("nobody", Vec::<&str>::new());
        assert!(kernel.list_isms(&stranger).unwrap().is_empty());
        let member = Principal::new(&user, Vec::<&str>::new());
        assert_eq!(kernel.list_isms(&member).unwrap().len(), 2);
        let own = Principal {
            enterprise: Some("bravo".into()),
            ..Principal::new(&user, Vec::<&str>::new())
        };
        assert_eq!(
            ids(&kernel.list_isms_page(&own, &IsmsQuery::default()).unwrap()),
            ["bravo"]
        );
    }

    #[test]
    fn a_store_without_the_index_gets_it_on_the_first_listing() {
        let (kernel, _) = kernel_with(&["Alpha", "Bravo"]);
        kernel
            .store()
            .write(|_, batch| {
                batch.delete(Repo::Isms, INDEXED);
                batch.delete(Repo::Isms, summary_key("alpha"));
                batch.delete(Repo::Isms, summary_key("bravo"));
                Ok::<_, ServiceError>(())
            })
            .unwrap();
        let local = Principal::local_operator();
        assert_eq!(kernel.list_isms(&local).unwrap().len(), 2);
        assert!(kernel
            .store()
            .get::<u32>(Repo::Isms, INDEXED)
            .unwrap()
            .is_some());
    }
}
