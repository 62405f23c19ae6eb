//! The reverse bench's PostgreSQL side: the typical policy compiled by `huiqi_engine::sql`,
//! over the same synthetic enterprises loaded with `COPY`, against the columnar scan.

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use huiqi_engine::reverse::{CompiledPredicate, EnterpriseStore, reach};
use huiqi_engine::sql::{self, SqlValue};
use huiqi_engine::synthetic;
use postgres::types::ToSql;
use postgres::{Client, NoTls};
use rayon::prelude::*;

use crate::pg_bind::bind;

/// Times the policy as SQL on PostgreSQL and as the columnar scan, and prints both p50s and
/// their ratio. `expected` is the scan's (eligible, needs_info); the SQL must return as many.
pub(crate) fn compare(
    table: &str,
    store: &EnterpriseStore,
    predicate: &CompiledPredicate,
    expected: (usize, usize),
    policy: &str,
    as_of: NaiveDate,
    full_run: bool,
) {
    let Ok(url) = std::env::var("HUIQI_PG_URL") else {
        println!(
            "PostgreSQL comparison skipped: HUIQI_PG_URL is not set (eval \"$(scripts/postgres)\")"
        );
        return;
    };
    let mut client = Client::connect(&url, NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to HUIQI_PG_URL={url}: {e}"));
    let n = store.len();
    prepare_table(&mut client, table, n);

    let rule = huiqi_engine::rule::compile(policy).unwrap();
    let pred = sql::compile(&rule, as_of).unwrap();
    let params: Vec<Box<dyn ToSql + Sync>> = pred.params.iter().map(bind).collect();
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v.as_ref()).collect();
    let eligible_sql = format!("SELECT id FROM {table} WHERE {}", pred.sql);
    let needs_info_sql = format!("SELECT id FROM {table} WHERE ({}) IS NULL", pred.sql);
    println!("PostgreSQL: {table}, {n} rows; predicate: {}", pred.sql);

    for (what, query) in [("eligible", &eligible_sql), ("needs_info", &needs_info_sql)] {
        let plan = client
            .query(&format!("EXPLAIN (ANALYZE, TIMING OFF) {query}"), &params)
            .unwrap();
        println!("EXPLAIN ANALYZE ({what} ids):");
        for row in &plan {
            let line: String = row.get(0);
            // The plan's nodes and the totals, without per-node detail lines.
            let t = line.trim_start();
            if t.starts_with("->")
                || line == t
                || t.starts_with("Index Cond")
                || t.starts_with("Recheck Cond")
                || t.starts_with("Workers")
            {
                println!("  {line}");
            }
        }
    }

    // Both id lists, as the scan produces both row sets.
    let mut run_sql = || {
        let eligible = client.query(&eligible_sql, &params).unwrap();
        let needs_info = client.query(&needs_info_sql, &params).unwrap();
        (eligible.len(), needs_info.len())
    };
    assert_eq!(run_sql(), expected, "SQL and the columnar scan disagree");
    let runs = if full_run { 21 } else { 3 };
    let sql_p50 = p50(runs, || {
        let got = run_sql();
        assert_eq!(got, expected);
    });
    let eligible_p50 = p50(runs, || {
        let got = client.query(&eligible_sql, &params).unwrap().len();
        assert_eq!(got, expected.0);
    });
    let scan_p50 = p50(runs * 3, || {
        let r = reach(store, predicate);
        assert_eq!((r.eligible.len(), r.needs_info.len()), expected);
    });
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "PostgreSQL vs columnar over {n} rows ({runs} runs each, p50): \
         SQL eligible + needs_info ids {:.1} ms (eligible ids alone {:.1} ms); \
         columnar scan (both row sets and group counts) {:.2} ms; \
         ratio PostgreSQL / columnar {:.1}× (eligible alone {:.1}×)",
        ms(sql_p50),
        ms(eligible_p50),
        ms(scan_p50),
        ms(sql_p50) / ms(scan_p50),
        ms(eligible_p50) / ms(scan_p50),
    );
}

/// The median of `runs` timed calls of `f`, after one untimed call.
fn p50(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// Makes `table` hold the `n` synthetic enterprises of the store (set 2026, ids 0..n), with
/// the engine's schema and a DBA's indexes, analysed. A table of `n` rows is reused.
fn prepare_table(client: &mut Client, table: &str, n: usize) {
    let exists: Option<String> = client
        .query_one("SELECT to_regclass($1)::text", &[&table])
        .unwrap()
        .get(0);
    let rows: i64 = match exists {
        Some(_) => client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0),
        None => -1,
    };
    // The engine's DDL names its table `enterprises`; here it is `table`.
    let named = |ddl: &str| ddl.replace(sql::TABLE, table);
    if rows != n as i64 {
        let t = Instant::now();
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
            .unwrap();
        client.batch_execute(&named(&sql::schema())).unwrap();
        load(client, table, n);
        println!(
            "PostgreSQL: loaded {n} rows into {table} with COPY in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // The engine's indexes (prefix search on codes, btree on common filters, GIN on label
    // sets), and a composite btree for the usual shape of a policy: a region prefix, then the
    // tax grade and size class, then the establishment date.
    let t = Instant::now();
    let mut ddl: Vec<String> = sql::indexes().iter().map(|i| named(i)).collect();
    ddl.push(format!(
        "CREATE INDEX {table}_policy_idx ON {table} \
         (region text_pattern_ops, tax_grade, size, established)"
    ));
    for statement in ddl {
        let statement = statement.replacen("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1);
        client.batch_execute(&statement).unwrap();
    }
    client
        .batch_execute(&format!("VACUUM ANALYZE {table}"))
        .unwrap();
    println!(
        "PostgreSQL: indexes and VACUUM ANALYZE in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

/// `COPY table FROM STDIN` (text format) of synthetic enterprises 0..n.
fn load(client: &mut Client, table: &str, n: usize) {
    let columns: Vec<&str> = sql::columns().iter().map(|c| c.name).collect();
    let mut tx = client.transaction().unwrap();
    let mut writer = tx
        .copy_in(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
        .unwrap();
    const CHUNK: usize = 50_000;
    for start in (0..n).step_by(CHUNK) {
        let text: Vec<String> = (start..(start + CHUNK).min(n))
            .into_par_iter()
            .map(|i| {
                let e = synthetic::enterprise(2026, i as u64);
                copy_line(&sql::row(&e).unwrap())
            })
            .collect();
        for line in text {
            writer.write_all(line.as_bytes()).unwrap();
        }
    }
    writer.finish().unwrap();
    tx.commit().unwrap();
}

/// One row in `COPY` text format: tab-separated, `\N` for `NULL`, backslash escapes.
fn copy_line(values: &[SqlValue]) -> String {
    let mut line = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            line.push('\t');
        }
        let field = match v {
            SqlValue::Null(_) => {
                line.push_str("\\N");
                continue;
            }
            SqlValue::Int4(x) => x.to_string(),
            SqlValue::Int8(x) => x.to_string(),
            SqlValue::Bool(b) => if *b { "t" } else { "f" }.to_string(),
            SqlValue::Date(d) => d.format("%Y-%m-%d").to_string(),
            SqlValue::Text(s) => s.clone(),
            SqlValue::TextArray(items) => array(items.iter().map(|s| {
                let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{escaped}\"")
            })),
            SqlValue::Int4Array(items) => array(items.iter().map(i32::to_string)),
            SqlValue::Int8Array(items) => array(items.iter().map(i64::to_string)),
        };
        for c in field.chars() {
            match c {
                '\\' => line.push_str("\\\\"),
                '\t' => line.push_str("\\t"),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                c => line.push(c),
            }
        }
    }
    line.push('\n');
    line
}

/// A PostgreSQL array literal of already quoted items.
fn array(items: impl Iterator<Item = String>) -> String {
    format!("{{{}}}", items.collect::<Vec<_>>().join(","))
}
