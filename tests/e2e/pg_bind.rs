//! Binding the engine's typed SQL parameters (`huiqi_engine::sql::SqlValue`) to the `postgres`
//! client: shared by the agreement tests and the reverse benchmark (`#[path]` there).

use std::error::Error;

use chrono::NaiveDate;
use huiqi_engine::sql::{SqlType, SqlValue};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// `NaiveDate` for the `date` type, in PostgreSQL's binary form (days since 2000-01-01).
/// The workspace builds `postgres` without its chrono feature, so the few lines are here; the
/// buffer type is the one `to_sql_checked!` itself names.
#[derive(Debug)]
pub(crate) struct PgDate(NaiveDate);

impl ToSql for PgDate {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let days = i32::try_from(self.0.signed_duration_since(epoch).num_days())?;
        out.extend_from_slice(&days.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }

    to_sql_checked!();
}

/// A value in the Rust type the `postgres` client binds to its SQL type.
pub(crate) fn bind(v: &SqlValue) -> Box<dyn ToSql + Sync> {
    match v.clone() {
        SqlValue::Null(t) => match t {
            SqlType::Int4 => Box::new(None::<i32>),
            SqlType::Int8 => Box::new(None::<i64>),
            SqlType::Bool => Box::new(None::<bool>),
            SqlType::Date => Box::new(None::<PgDate>),
            SqlType::Text => Box::new(None::<String>),
            SqlType::TextArray => Box::new(None::<Vec<String>>),
            SqlType::Int4Array => Box::new(None::<Vec<i32>>),
            SqlType::Int8Array => Box::new(None::<Vec<i64>>),
        },
        SqlValue::Int4(x) => Box::new(x),
        SqlValue::Int8(x) => Box::new(x),
        SqlValue::Bool(x) => Box::new(x),
        SqlValue::Date(x) => Box::new(PgDate(x)),
        SqlValue::Text(x) => Box::new(x),
        SqlValue::TextArray(x) => Box::new(x),
        SqlValue::Int4Array(x) => Box::new(x),
        SqlValue::Int8Array(x) => Box::new(x),
    }
}
