//! One PostgreSQL connection as the store's code uses it: statements prepared once and
//! kept (a statement sent by text costs a second round trip to prepare each time), and
//! the four shapes of call the operations make. The writer and every reader hold one
//! [`Db`]; transactions are begun and ended by whoever owns it (the writer commits in
//! groups, with a savepoint per job), so the operations only run statements.

use super::StoreError;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use std::collections::HashMap;

/// Parameters of a statement.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A connection and its prepared statements.
pub struct Db {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl Db {
    pub fn new(client: Client) -> Db {
        Db {
            client,
            prepared: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.prepared.insert(sql, s.clone());
        Ok(s)
    }

    /// Runs a statement; answers the rows it changed.
    pub fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64, StoreError> {
        let s = self.statement(sql)?;
        Ok(self.client.execute(&s, params)?)
    }

    /// Every row a query answers.
    pub fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let s = self.statement(sql)?;
        Ok(self.client.query(&s, params)?)
    }

    /// The first column of every row a query answers, as text.
    pub fn texts(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self.query(sql, params)?;
        rows.iter()
            .map(|r| r.try_get::<_, String>(0).map_err(StoreError::from))
            .collect()
    }

    /// The one row a query answers (none is an error).
    pub fn one(&mut self, sql: &'static str, params: Params<'_>) -> Result<Row, StoreError> {
        let s = self.statement(sql)?;
        Ok(self.client.query_one(&s, params)?)
    }

    /// The row a query answers, if any (more than one is an error).
    pub fn opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        let s = self.statement(sql)?;
        Ok(self.client.query_opt(&s, params)?)
    }

    /// A statement built at run time (not kept prepared): its rows.
    pub fn query_dynamic(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        Ok(self.client.query(sql, params)?)
    }

    /// A statement built at run time (not kept prepared): the rows it changed.
    pub fn execute_dynamic(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        Ok(self.client.execute(sql, params)?)
    }

    /// Statements without parameters (transaction control, settings).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.client.batch_execute(sql)?)
    }

    /// Whether the connection is gone (the server closed it or the socket broke).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// An integer column as the unsigned id or count it holds (a negative one is damage).
pub fn unsigned(row: &Row, column: usize) -> Result<u64, StoreError> {
    let v: i64 = row.try_get(column)?;
    u64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("negative value {v} in column {column}")))
}

/// An id or count as PostgreSQL's BIGINT (past `i64::MAX`: the largest).
pub fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
