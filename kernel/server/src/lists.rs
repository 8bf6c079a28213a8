//! Long lists (issue 17.6) on pages and in the API: filters given as a GET form's fields
//! and a page of the rows that pass them, with links to the other pages that
//! keep the filters. The rows are the services' own; a page only chooses
//! which of them to show.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::api::isms::encode;

/// The fields of a list page's query: its filters and `page` (from 1).
#[derive(Debug, Default, Clone)]
pub struct ListQuery(BTreeMap<String, String>);

impl ListQuery {
    /// From the query string's pairs.
    pub fn new(pairs: BTreeMap<String, String>) -> Self {
        ListQuery(pairs)
    }

    /// Filter `name`, when given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The page asked for (1 when none or not a number).
    fn page(&self) -> usize {
        self.get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p > 0)
            .unwrap_or(1)
    }

    /// The filters as the form shows them back.
    pub fn filters(&self) -> Value {
        json!(self
            .0
            .iter()
            .filter(|(k, v)| *k != "page" && !v.trim().is_empty())
            .collect::<BTreeMap<_, _>>())
    }

    /// `path` with the filters and page `page`.
    fn link(&self, path: &str, page: usize) -> String {
        let mut pairs: Vec<String> = self
            .0
            .iter()
            .filter(|(k, v)| *k != "page" && !v.trim().is_empty())
            .map(|(k, v)| format!("{}={}", encode(k), encode(v.trim())))
            .collect();
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        if pairs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    }
}

/// Page `query.page()` of `rows` (those that passed the filters), `per` to a
/// page, and the pager the template `pager.html` draws: `total`, `page`,
/// `pages`, `from`, `to`, and the `prev` and `next` links.
pub fn paged<T: Serialize>(
    rows: Vec<T>,
    query: &ListQuery,
    per: usize,
    path: &str,
) -> (Vec<T>, Value) {
    let total = rows.len();
    let pages = total.div_ceil(per).max(1);
    let page = query.page().min(pages);
    let start = (page - 1) * per;
    let shown: Vec<T> = rows.into_iter().skip(start).take(per).collect();
    let pager = json!({
        "total": total,
        "page": page,
        "pages": pages,
        "from": if total == 0 { 0 } else { start + 1 },
        "to": start + shown.len(),
        "prev": (page > 1).then(|| query.link(path, page - 1)),
        "next": (page < pages).then(|| query.link(path, page + 1)),
    });
    (shown, pager)
}

/// Whether a row of time `at` (seconds) by `user` of kind `kind` passes the
/// `user`, `kind` and `since` (YYYY-MM-DD) filters of `query`.
pub fn event_passes(query: &ListQuery, at: u64, user: &str, kind: &str) -> bool {
    let since = query.get("since").and_then(|d| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp().max(0) as u64)
    });
    query.get("user").is_none_or(|u| u == user)
        && query.get("kind").is_none_or(|k| kind.starts_with(k))
        && since.is_none_or(|s| at >= s)
}

/// The API's paging of a long list (`offset`, `limit`), the list's shape
/// kept: the rows that pass, from `offset`, at most `limit` of them, and the
/// count of all that pass (for an `X-Total-Count` header).
pub fn window<T>(rows: Vec<T>, query: &ListQuery) -> (Vec<T>, usize) {
    let total = rows.len();
    let offset = query
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    (rows.into_iter().skip(offset).take(limit).collect(), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        ListQuery::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_page_keeps_the_filters_in_its_links_and_stays_in_range() {
        let rows: Vec<usize> = (1..=53).collect();
        let q = query(&[("owner", "ana ruiz"), ("page", "2"), ("state", "")]);
        let (shown, pager) = paged(rows.clone(), &q, 25, "/isms/x/plan");
        assert_eq!(shown.first(), Some(&26));
        assert_eq!(shown.len(), 25);
        assert_eq!(pager["pages"], 3);
        assert_eq!(pager["from"], 26);
        assert_eq!(pager["prev"], "/isms/x/plan?owner=ana%20ruiz");
        assert_eq!(pager["next"], "/isms/x/plan?owner=ana%20ruiz&page=3");
        assert_eq!(q.filters(), json!({ "owner": "ana ruiz" }));
        // A page past the end shows the last one; nothing is an empty page 1.
        let (shown, pager) = paged(rows, &query(&[("page", "9")]), 25, "/p");
        assert_eq!(shown, [51, 52, 53]);
        assert!(pager["next"].is_null());
        let (shown, pager) = paged(Vec::<usize>::new(), &query(&[]), 25, "/p");
        assert!(shown.is_empty());
        assert_eq!(
            (pager["from"].clone(), pager["pages"].clone()),
            (json!(0), json!(1))
        );
    }
}
