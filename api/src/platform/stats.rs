//! Statistics for the people who run and use the platform: enterprises, matches
//! (recommendations), notifications sent and read, reviews by outcome, webhook deliveries;
//! per region (province) and per institution.
//!
//! Each role sees its own slice: admins everything, a policy office the enterprises of its
//! region, an advisor its assigned enterprises, an institution the recommendations of its
//! products.

use huiqi_engine::codes::region;
use huiqi_engine::model::Role;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::Platform;
use super::access::Actor;
use crate::error::{Error, Result};

/// A count by key.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Count {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Stats {
    /// What the figures cover, e.g. `all`, `region 3301`, `institution BANK-HANHAI`.
    pub scope: String,
    pub enterprises: i64,
    pub enterprises_by_province: Vec<Count>,
    /// Recommendations made (one per enterprise, offer and offer version).
    pub matches: i64,
    pub matches_by_kind: Vec<Count>,
    pub matches_by_province: Vec<Count>,
    pub matches_by_institution: Vec<Count>,
    pub notifications_created: i64,
    pub notifications_sent: i64,
    pub notifications_read: i64,
    pub notifications_dismissed: i64,
    pub notifications_by_kind: Vec<Count>,
    pub notifications_by_province: Vec<Count>,
    /// Recommendations by review outcome (pending, approved, rejected, not_required).
    pub reviews: Vec<Count>,
    pub reviews_by_reason: Vec<Count>,
    /// Webhook deliveries by state.
    pub webhook_deliveries: Vec<Count>,
}

/// Which enterprises (and recommendations) a role's figures cover, as SQL over an
/// `enterprise_id` column and a `provider` column, with one parameter.
struct Slice {
    label: String,
    param: Option<String>,
    enterprises: &'static str,
    recommendations: &'static str,
}

fn slice(actor: &Actor) -> Result<Slice> {
    let scope = actor.scope.clone();
    Ok(match actor.role {
        Role::Admin => Slice {
            label: "all".into(),
            param: None,
            enterprises: "1",
            recommendations: "1",
        },
        Role::PolicyOffice => Slice {
            label: format!("region {}", actor.scope()),
            param: scope,
            enterprises: "enterprise_id IN (SELECT id FROM enterprises WHERE region LIKE ?1 || '%')",
            recommendations: "enterprise_id IN (SELECT id FROM enterprises WHERE region LIKE ?1 || '%')",
        },
        Role::Advisor => Slice {
            label: format!("advisor {}", actor.scope()),
            param: scope,
            enterprises: "enterprise_id IN (SELECT enterprise_id FROM assignments WHERE advisor = ?1)",
            recommendations: "enterprise_id IN (SELECT enterprise_id FROM assignments WHERE advisor = ?1)",
        },
        Role::Institution => Slice {
            label: format!("institution {}", actor.scope()),
            param: scope,
            enterprises: "0",
            recommendations: "offer_kind = 'product' AND provider = ?1",
        },
        Role::Enterprise => {
            return Err(Error::forbidden(
                "statistics are for admins, advisors, policy offices and institutions",
            ));
        }
    })
}

fn counts(c: &Connection, sql: &str, param: &Option<String>) -> rusqlite::Result<Vec<Count>> {
    let mut stmt = c.prepare(sql)?;
    let bind = |r: &rusqlite::Row<'_>| {
        Ok(Count {
            key: r
                .get::<_, Option<String>>(0)?
                .unwrap_or_else(|| "unknown".into()),
            name: None,
            count: r.get(1)?,
        })
    };
    if sql.contains("?1") {
        stmt.query_map(params![param], bind)?.collect()
    } else {
        stmt.query_map([], bind)?.collect()
    }
}

fn one(c: &Connection, sql: &str, param: &Option<String>) -> rusqlite::Result<i64> {
    if sql.contains("?1") {
        c.query_row(sql, params![param], |r| r.get(0))
    } else {
        c.query_row(sql, [], |r| r.get(0))
    }
}

fn named(mut list: Vec<Count>) -> Vec<Count> {
    for c in &mut list {
        c.name = region::name(&c.key).map(String::from);
    }
    list
}

impl Platform {
    pub async fn stats(&self, actor: &Actor) -> Result<Stats> {
        let s = slice(actor)?;
        // Enterprise-level figures read the enterprises table itself, filtered by id.
        let ent_where = s.enterprises.replacen("enterprise_id", "id", 1);
        let rec = s.recommendations;
        let notif = if actor.is(Role::Institution) {
            "0"
        } else {
            s.enterprises
        };
        let p = &s.param;
        let stats = self.db.read(|c| {
            let province = "substr(e.region, 1, 2)";
            Ok(Stats {
                scope: s.label.clone(),
                enterprises: one(c, &format!("SELECT count(*) FROM enterprises WHERE {ent_where}"), p)?,
                enterprises_by_province: named(counts(
                    c,
                    &format!("SELECT substr(region, 1, 2), count(*) FROM enterprises WHERE {ent_where} GROUP BY 1 ORDER BY 2 DESC, 1"),
                    p,
                )?),
                matches: one(c, &format!("SELECT count(*) FROM recommendations WHERE {rec}"), p)?,
                matches_by_kind: counts(
                    c,
                    &format!("SELECT offer_kind, count(*) FROM recommendations WHERE {rec} GROUP BY 1 ORDER BY 1"),
                    p,
                )?,
                matches_by_province: named(counts(
                    c,
                    &format!(
                        "SELECT {province}, count(*) FROM recommendations r LEFT JOIN enterprises e ON e.id = r.enterprise_id
                         WHERE {} GROUP BY 1 ORDER BY 2 DESC, 1",
                        qualify(rec, "r")
                    ),
                    p,
                )?),
                matches_by_institution: counts(
                    c,
                    &format!("SELECT provider, count(*) FROM recommendations WHERE {rec} AND offer_kind = 'product' GROUP BY 1 ORDER BY 2 DESC, 1"),
                    p,
                )?,
                notifications_created: one(c, &format!("SELECT count(*) FROM notifications WHERE {notif}"), p)?,
                notifications_sent: one(c, &format!("SELECT count(*) FROM notifications WHERE {notif} AND state = 'delivered'"), p)?,
                notifications_read: one(c, &format!("SELECT count(*) FROM notifications WHERE {notif} AND read_at IS NOT NULL"), p)?,
                notifications_dismissed: one(c, &format!("SELECT count(*) FROM notifications WHERE {notif} AND dismissed_at IS NOT NULL"), p)?,
                notifications_by_kind: counts(
                    c,
                    &format!("SELECT kind, count(*) FROM notifications WHERE {notif} GROUP BY 1 ORDER BY 1"),
                    p,
                )?,
                notifications_by_province: named(counts(
                    c,
                    &format!(
                        "SELECT {province}, count(*) FROM notifications n LEFT JOIN enterprises e ON e.id = n.enterprise_id
                         WHERE {} GROUP BY 1 ORDER BY 2 DESC, 1",
                        qualify(notif, "n")
                    ),
                    p,
                )?),
                reviews: counts(
                    c,
                    &format!("SELECT review, count(*) FROM recommendations WHERE {rec} GROUP BY 1 ORDER BY 1"),
                    p,
                )?,
                reviews_by_reason: counts(
                    c,
                    &format!("SELECT reason, count(*) FROM recommendations WHERE {rec} AND reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"),
                    p,
                )?,
                webhook_deliveries: counts(
                    c,
                    &format!(
                        "SELECT d.state, count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                         WHERE {} GROUP BY 1 ORDER BY 1",
                        qualify(notif, "n")
                    ),
                    p,
                )?,
            })
        })?;
        self.audit
            .append(vec![actor.entry(
                "stats.read",
                "enterprises".into(),
                actor.purpose_or(actor.allowed_purposes()[0]),
            )])
            .await?;
        Ok(stats)
    }
}

/// Qualifies the bare column names of a slice condition with a table alias.
fn qualify(condition: &str, alias: &str) -> String {
    condition
        .replace("enterprise_id IN", &format!("{alias}.enterprise_id IN"))
        .replace("offer_kind =", &format!("{alias}.offer_kind ="))
        .replace("provider =", &format!("{alias}.provider ="))
}
