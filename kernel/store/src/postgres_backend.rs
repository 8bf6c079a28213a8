//! The PostgreSQL backend: the three repositories as three tables of
//! `(k bytea primary key, v bytea)`, so that a prefix scan is a range of the
//! primary key's index in the byte order sled uses too.
//!
//! Writers are serialised across every process on the database by a
//! transaction-scoped advisory lock taken before the first read: a write's
//! reads see every committed write and nothing commits before it does. The
//! audit chain is one sequence over the whole store, so every audited write
//! is serialised on its head in any case; the lock makes that explicit and
//! removes serialisation failures (and retries) altogether. Readers never
//! take it.
//!
//! The tables are created and upgraded by numbered migrations, run at start
//! under a second advisory lock and recorded in `mmsm_migrations`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls, Statement};
use r2d2::{ManageConnection, Pool, PooledConnection};

use super::{Backend, Op, Pair, Pairs, Reader, Repo, StoreError, Txn};

/// The advisory lock every write transaction takes ("mmsmWR").
const WRITE_LOCK: i64 = 0x6d6d_736d_5752;
/// The advisory lock of the migrations ("mmsmMI").
const MIGRATE_LOCK: i64 = 0x6d6d_736d_4d49;

/// The migrations, in order: (version, what it does, SQL). Never edit a
/// released one; add the next.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "the three repositories",
    "CREATE TABLE mmsm_schemas (k bytea PRIMARY KEY, v bytea NOT NULL);
     CREATE TABLE mmsm_isms (k bytea PRIMARY KEY, v bytea NOT NULL);
     CREATE TABLE mmsm_info (k bytea PRIMARY KEY, v bytea NOT NULL);",
)];

/// Whether `text` is a PostgreSQL connection URL.
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The URL without its password, to print.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

fn table(repo: Repo) -> &'static str {
    match repo {
        Repo::Schemas => "mmsm_schemas",
        Repo::Isms => "mmsm_isms",
        Repo::Info => "mmsm_info",
    }
}

/// The first key past every key that starts with `prefix`, if there is one.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A connection with its prepared statements.
pub struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    broken: bool,
}

impl Conn {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn get(&mut self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!("SELECT v FROM {} WHERE k = $1", table(repo));
        let statement = self.statement(&sql).map_err(read_error(repo))?;
        let row = self
            .client
            .query_opt(&statement, &[&key])
            .map_err(read_error(repo))?;
        Ok(row.map(|row| row.get(0)))
    }

    fn range(
        &mut self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        descending: bool,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        let (start, op) = match after {
            Some(after) if after >= prefix => (after, ">"),
            _ => (prefix, ">="),
        };
        let end = prefix_end(prefix);
        let order = if descending { "DESC" } else { "ASC" };
        let upper = if end.is_some() { " AND k < $3" } else { "" };
        let sql = format!(
            "SELECT k, v FROM {} WHERE k {op} $1{upper} ORDER BY k {order} LIMIT $2",
            table(repo)
        );
        let statement = self.statement(&sql).map_err(read_error(repo))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match &end {
            Some(end) => self.client.query(&statement, &[&start, &limit, end]),
            None => self.client.query(&statement, &[&start, &limit]),
        }
        .map_err(read_error(repo))?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    fn apply(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        // Runs of puts (or deletes) to one repository go in one statement;
        // a key put twice in a run keeps its last value, as applying the
        // operations one by one would.
        let mut rest = ops;
        while let Some(first) = rest.first() {
            let same = rest
                .iter()
                .take_while(|op| {
                    op.repo == first.repo && op.value.is_some() == first.value.is_some()
                })
                .count();
            let (run, next) = rest.split_at(same);
            rest = next;
            let write_error = StoreError::engine(format!(
                "cannot write to the {} repository",
                first.repo.name()
            ));
            if first.value.is_some() {
                let mut last: HashMap<&[u8], &[u8]> = HashMap::with_capacity(run.len());
                let mut order: Vec<&[u8]> = Vec::with_capacity(run.len());
                for op in run {
                    let value = op.value.as_deref().unwrap_or_default();
                    if last.insert(&op.key, value).is_none() {
                        order.push(&op.key);
                    }
                }
                let values: Vec<&[u8]> = order.iter().map(|k| last[k]).collect();
                let sql = format!(
                    "INSERT INTO {} (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                    table(first.repo)
                );
                let statement = self.statement(&sql).map_err(write_error)?;
                self.client
                    .execute(&statement, &[&order, &values])
                    .map_err(StoreError::engine(format!(
                        "cannot write to the {} repository",
                        first.repo.name()
                    )))?;
            } else {
                let keys: Vec<&[u8]> = run.iter().map(|op| op.key.as_slice()).collect();
                let sql = format!("DELETE FROM {} WHERE k = ANY($1)", table(first.repo));
                let statement = self.statement(&sql).map_err(write_error)?;
                self.client
                    .execute(&statement, &[&keys])
                    .map_err(StoreError::engine(format!(
                        "cannot delete from the {} repository",
                        first.repo.name()
                    )))?;
            }
        }
        Ok(())
    }
}

/// Runs `work`, which blocks on the database, where blocking is allowed.
/// The synchronous client drives its own small runtime, which must not
/// start on a thread that drives async tasks: a handler that calls the
/// kernel on a tokio worker gets the worker handed over (`block_in_place`),
/// and on a single-threaded runtime the work moves to a scoped thread.
fn off_runtime<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        Ok(_) => std::thread::scope(|scope| {
            scope
                .spawn(work)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
        Err(_) => work(),
    }
}

fn read_error(repo: Repo) -> impl FnOnce(postgres::Error) -> StoreError {
    StoreError::engine(format!("cannot read the {} repository", repo.name()))
}

/// Opens connections for the pool.
pub struct Manager {
    config: postgres::Config,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// The repositories in a PostgreSQL database, through a pool of connections.
pub struct PostgresBackend {
    pool: Pool<Manager>,
    place: String,
}

impl PostgresBackend {
    /// Connects to `url`, runs the migrations this release knows and keeps a
    /// pool of at most `pool` connections.
    pub fn connect(url: &str, pool: u32) -> Result<Self, StoreError> {
        let place = format!("PostgreSQL {}", redact(url));
        let mut config: postgres::Config = url.parse().map_err(StoreError::engine(format!(
            "`{}` is not a PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)",
            redact(url)
        )))?;
        config.application_name("mmsm");
        config.connect_timeout(Duration::from_secs(10));
        let mut first = config
            .connect(NoTls)
            .map_err(StoreError::engine(format!("cannot connect to {place}")))?;
        migrate(&mut first)?;
        drop(first);
        let pool = Pool::builder()
            .max_size(pool.max(2))
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(30))
            .build(Manager { config })
            .map_err(StoreError::engine(format!("cannot connect to {place}")))?;
        Ok(PostgresBackend { pool, place })
    }

    fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        self.pool.get().map_err(StoreError::engine(format!(
            "no connection to {}",
            self.place
        )))
    }
}

/// Brings the tables to the latest version this release knows.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let failed = |what: &str| StoreError::engine(format!("cannot migrate the database: {what}"));
    let mut txn = client.transaction().map_err(failed("begin"))?;
    txn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .map_err(failed("lock"))?;
    txn.batch_execute(
        "CREATE TABLE IF NOT EXISTS mmsm_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .map_err(failed("create mmsm_migrations"))?;
    let current: i32 = txn
        .query_one("SELECT coalesce(max(version), 0) FROM mmsm_migrations", &[])
        .map_err(failed("read mmsm_migrations"))?
        .get(0);
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > latest {
        return Err(StoreError::Backend(format!(
            "the database is at migration {current}, newer than this release knows ({latest}); upgrade mmsm"
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        txn.batch_execute(sql).map_err(failed(name))?;
        txn.execute(
            "INSERT INTO mmsm_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .map_err(failed(name))?;
    }
    txn.commit().map_err(failed("commit"))
}

impl Reader for PostgresBackend {
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        off_runtime(|| self.conn()?.get(repo, key))
    }

    fn scan_page(
        &self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        off_runtime(|| self.conn()?.range(repo, prefix, after, false, limit))
    }

    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError> {
        off_runtime(|| Ok(self.conn()?.range(repo, prefix, None, true, 1)?.pop()))
    }
}

impl Backend for PostgresBackend {
    fn begin(&self) -> Result<Arc<dyn Txn>, StoreError> {
        let conn = off_runtime(|| {
            let mut conn = self.conn()?;
            conn.client
                .batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
                ))
                .map_err(StoreError::engine("cannot begin a write transaction"))?;
            Ok::<_, StoreError>(conn)
        })?;
        Ok(Arc::new(PostgresTxn {
            conn: Mutex::new(conn),
            committed: AtomicBool::new(false),
        }))
    }

    fn flush(&self) -> Result<(), StoreError> {
        // A committed transaction is durable already (synchronous_commit).
        Ok(())
    }

    fn describe(&self) -> String {
        self.place.clone()
    }

    fn is_remote(&self) -> bool {
        true
    }
}

/// A write on PostgreSQL: one connection holding the write lock.
struct PostgresTxn {
    conn: Mutex<PooledConnection<Manager>>,
    committed: AtomicBool,
}

impl PostgresTxn {
    fn conn(&self) -> std::sync::MutexGuard<'_, PooledConnection<Manager>> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Reader for PostgresTxn {
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        off_runtime(|| self.conn().get(repo, key))
    }

    fn scan_page(
        &self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        off_runtime(|| self.conn().range(repo, prefix, after, false, limit))
    }

    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError> {
        off_runtime(|| Ok(self.conn().range(repo, prefix, None, true, 1)?.pop()))
    }
}

impl Txn for PostgresTxn {
    fn apply(&self, ops: &[Op]) -> Result<(), StoreError> {
        off_runtime(|| self.conn().apply(ops))
    }

    fn commit(&self) -> Result<(), StoreError> {
        off_runtime(|| {
            self.conn()
                .client
                .batch_execute("COMMIT")
                .map_err(StoreError::engine("cannot commit the write"))
        })?;
        self.committed.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for PostgresTxn {
    fn drop(&mut self) {
        if self.committed.load(Ordering::SeqCst) {
            return;
        }
        let conn = self.conn.get_mut().unwrap_or_else(|p| p.into_inner());
        if off_runtime(|| conn.client.batch_execute("ROLLBACK")).is_err() {
            // Never hand a connection in an unknown state back to the pool.
            conn.broken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_prefix_is_the_first_key_past_it() {
        assert_eq!(prefix_end(b"isms/"), Some(b"isms0".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn a_printed_url_hides_its_password() {
        assert_eq!(
            redact("postgres://mmsm:secret@db:5432/mmsm"),
            "postgres://mmsm@db:5432/mmsm"
        );
        assert_eq!(redact("postgres://db/mmsm"), "postgres://db/mmsm");
        assert!(is_url("postgresql://x/y") && !is_url("./mmsm-data"));
    }
}
