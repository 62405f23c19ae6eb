//! Scores: weighted sums of visible components, each in [0, 1].

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::{
    Benefit, BenefitBasis, FinancingNeed, GuaranteeType, Policy, Product, ProductKind, Range,
};

/// Weights of the score components (from configuration; defaults below).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    pub need_fit: f32,
    pub text: f32,
    pub semantic: f32,
    pub attractiveness: f32,
    pub time: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            need_fit: 0.35,
            text: 0.15,
            semantic: 0.15,
            attractiveness: 0.25,
            time: 0.10,
        }
    }
}

/// Market figures the benefit estimate needs, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Assumptions {
    /// One-year loan prime rate, basis points.
    pub lpr_bp: i64,
    /// Annual guarantee fee rate when none is known, basis points.
    pub guarantee_fee_bp: i64,
    /// Loan rate when the enterprise has no eligible loan product to take it from, bp.
    pub loan_rate_bp: i64,
    /// Loan amount assumed when the enterprise stated none, yuan.
    pub default_amount: i64,
    /// Term assumed when none is stated, months.
    pub default_term_months: i64,
    /// Days before a window closes from which an offer counts as urgent.
    pub closing_soon_days: i64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            lpr_bp: 300,
            guarantee_fee_bp: 100,
            loan_rate_bp: 400,
            default_amount: 1_000_000,
            default_term_months: 12,
            closing_soon_days: 30,
        }
    }
}

/// Relevance signals computed outside the engine (full-text and semantic search), by offer id,
/// each already scaled to [0, 1].
#[derive(Debug, Clone, Default)]
pub struct Signals {
    pub text: HashMap<String, f32>,
    pub semantic: HashMap<String, f32>,
}

/// How well a product fits the stated financing need; `None` parts were not stated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NeedFit {
    pub amount: Option<bool>,
    pub term: Option<bool>,
    pub guarantee: Option<bool>,
    pub rate: Option<bool>,
}

impl NeedFit {
    /// Each stated part counts 1 when it fits, 0 when not; unstated parts count ½.
    pub fn score(&self) -> f32 {
        let parts = [self.amount, self.term, self.guarantee, self.rate];
        parts
            .iter()
            .map(|p| p.map_or(0.5, |ok| if ok { 1.0 } else { 0.0 }))
            .sum::<f32>()
            / 4.0
    }

    pub fn of(product: &Product, need: Option<&FinancingNeed>) -> NeedFit {
        NeedFit::of_terms(&ProductTerms::of(product), need)
    }

    pub(crate) fn of_terms(product: &ProductTerms, need: Option<&FinancingNeed>) -> NeedFit {
        let Some(need) = need else {
            return NeedFit {
                amount: None,
                term: None,
                guarantee: None,
                rate: None,
            };
        };
        NeedFit {
            amount: need.amount.map(|a| product.amount.contains(a)),
            term: need.term_months.map(|t| product.term_months.contains(t)),
            guarantee: (!need.guarantee_types.is_empty())
                .then(|| product.guarantee & guarantee_bits(&need.guarantee_types) != 0),
            rate: need.max_rate_bp.map(|max| product.rate_min_bp <= max),
        }
    }
}

/// What a product's score reads of it, copied out of the product so that scoring thousands
/// of products reads little memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProductTerms {
    pub(crate) kind: ProductKind,
    amount: Range,
    term_months: Range,
    /// The guarantee types accepted, one bit each ([`guarantee_bits`]).
    guarantee: u32,
    pub(crate) rate_min_bp: i64,
}

impl ProductTerms {
    pub(crate) fn of(p: &Product) -> ProductTerms {
        ProductTerms {
            kind: p.kind,
            amount: p.amount,
            term_months: p.term_months,
            guarantee: guarantee_bits(&p.guarantee),
            rate_min_bp: p.rate_bp.min,
        }
    }
}

/// A set of guarantee types as bits, so that "any in common" is one `&`.
fn guarantee_bits(types: &[GuaranteeType]) -> u32 {
    types.iter().fold(0, |bits, &g| bits | 1 << (g as u32))
}

/// What a policy is worth to the enterprise, in yuan, and how it was worked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenefitEstimate {
    pub yuan: i64,
    /// e.g. `"300万元 × 3.45% × 70% × 12个月，封顶100万元"`.
    pub basis: String,
}

/// The loan a benefit is computed on: the need's amount and term, or the assumed ones.
fn loan_terms(benefit: &Benefit, need: Option<&FinancingNeed>, a: &Assumptions) -> (i64, i64) {
    let amount = need.and_then(|n| n.amount).unwrap_or(a.default_amount);
    let need_months = need
        .and_then(|n| n.term_months)
        .unwrap_or(a.default_term_months);
    let months = benefit
        .duration_months
        .map_or(need_months, |d| d.min(need_months))
        .max(0);
    (amount, months)
}

/// The benefit in yuan before and after caps (numbers only: used to rank every offer).
pub fn benefit_yuan(
    benefit: &Benefit,
    need: Option<&FinancingNeed>,
    loan_rate_bp: i64,
    a: &Assumptions,
) -> (i64, Option<i64>) {
    let (amount, months) = loan_terms(benefit, need, a);
    let share = benefit.percent_bp.unwrap_or(0);
    // yuan = amount × rate_bp/10000 × share_bp/10000 × months/12, in integer arithmetic.
    let yearly = |rate_bp: i64, share_bp: i64| -> i64 {
        (i128::from(amount) * i128::from(rate_bp) * i128::from(share_bp) * i128::from(months)
            / (10_000 * 10_000 * 12)) as i64
    };
    let raw = match benefit.basis {
        BenefitBasis::Interest => yearly(loan_rate_bp, share),
        BenefitBasis::Lpr => yearly(a.lpr_bp, share),
        BenefitBasis::RatePoints => yearly(share, 10_000),
        BenefitBasis::GuaranteeFee => yearly(a.guarantee_fee_bp, share),
        BenefitBasis::Fixed => benefit.amount.unwrap_or(0),
        BenefitBasis::LenderLoss | BenefitBasis::BridgeFunding => 0,
    };
    let years = ((months + 11) / 12).max(1);
    let cap = [
        benefit.cap_per_enterprise,
        benefit.cap_per_year.map(|c| c * years),
    ]
    .into_iter()
    .flatten()
    .min();
    match cap {
        Some(c) if raw > c => (c, Some(c)),
        _ => (raw, None),
    }
}

/// Estimates a policy's benefit for a loan of the need's amount and term at `loan_rate_bp`,
/// with the working shown.
pub fn estimate_benefit(
    benefit: &Benefit,
    need: Option<&FinancingNeed>,
    loan_rate_bp: i64,
    a: &Assumptions,
) -> BenefitEstimate {
    use crate::text::{money, percent};
    let (amount, months) = loan_terms(benefit, need, a);
    let share = benefit.percent_bp.unwrap_or(0);
    let (yuan, capped) = benefit_yuan(benefit, need, loan_rate_bp, a);
    let basis = match benefit.basis {
        BenefitBasis::Interest => format!(
            "{} × {} × {} × {months}个月",
            money(amount),
            percent(loan_rate_bp),
            percent(share)
        ),
        BenefitBasis::Lpr => format!(
            "{} × LPR {} × {} × {months}个月",
            money(amount),
            percent(a.lpr_bp),
            percent(share)
        ),
        BenefitBasis::RatePoints => {
            format!("{} × {} × {months}个月", money(amount), percent(share))
        }
        BenefitBasis::GuaranteeFee => format!(
            "{} × 担保费率 {} × {} × {months}个月",
            money(amount),
            percent(a.guarantee_fee_bp),
            percent(share)
        ),
        BenefitBasis::Fixed => "定额".to_string(),
        BenefitBasis::LenderLoss | BenefitBasis::BridgeFunding => {
            "增信/转贷支持，无直接资金".to_string()
        }
    };
    match capped {
        Some(c) => BenefitEstimate {
            yuan,
            basis: format!("{basis}，封顶{}", money(c)),
        },
        None => BenefitEstimate { yuan, basis },
    }
}

/// Every component of an offer's score, and the weighted total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreBreakdown {
    pub total: f32,
    pub need_fit: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need_fit_parts: Option<NeedFit>,
    pub text: f32,
    pub semantic: f32,
    pub attractiveness: f32,
    /// Products: the best annual rate, bp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_bp: Option<i64>,
    /// Policies: the estimated benefit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefit: Option<BenefitEstimate>,
    pub time: f32,
    /// Days until the application window closes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
}

/// Lower rates are more attractive: 2% scores 1, 12% and above 0.
pub(crate) fn rate_score(rate_bp: i64) -> f32 {
    (1.0 - (rate_bp - 200) as f32 / 1000.0).clamp(0.0, 1.0)
}

/// A benefit of ¥100,000 scores ½; the score saturates towards 1.
pub(crate) fn benefit_score(yuan: i64) -> f32 {
    let y = yuan.max(0) as f32;
    y / (y + 100_000.0)
}

/// Closing within the urgency window raises the score (1 on the last day).
pub(crate) fn time_score(
    closes: Option<NaiveDate>,
    as_of: NaiveDate,
    a: &Assumptions,
) -> (f32, Option<i64>) {
    match closes {
        Some(c) => {
            let days = (c - as_of).num_days();
            let urgency = if days <= a.closing_soon_days {
                1.0 - days as f32 / (a.closing_soon_days as f32 + 1.0)
            } else {
                0.0
            };
            (urgency.clamp(0.0, 1.0), Some(days))
        }
        None => (0.0, None),
    }
}

/// An offer's signal, 0 when it has none (an empty map is not hashed into).
fn signal<'a>(map: &HashMap<String, f32>, id: &impl Fn() -> &'a str) -> f32 {
    if map.is_empty() {
        return 0.0;
    }
    map.get(id()).copied().unwrap_or(0.0)
}

impl ScoreBreakdown {
    /// A product's score from its terms; `id` is read only when there are signals.
    pub(crate) fn product_terms<'a>(
        p: &ProductTerms,
        id: impl Fn() -> &'a str,
        need: Option<&FinancingNeed>,
        signals: &Signals,
        w: &Weights,
    ) -> ScoreBreakdown {
        let fit = NeedFit::of_terms(p, need);
        let mut s = ScoreBreakdown {
            total: 0.0,
            need_fit: fit.score(),
            need_fit_parts: Some(fit),
            text: signal(&signals.text, &id),
            semantic: signal(&signals.semantic, &id),
            attractiveness: rate_score(p.rate_min_bp),
            rate_bp: Some(p.rate_min_bp),
            benefit: None,
            time: 0.0,
            days_left: None,
        };
        s.total = s.weighted(w);
        s
    }

    /// The policy's score from its benefit in yuan; `benefit` (with the working) is filled in
    /// only for the matches that are shown.
    pub(crate) fn policy(
        p: &Policy,
        benefit_yuan: i64,
        as_of: NaiveDate,
        signals: &Signals,
        w: &Weights,
        a: &Assumptions,
    ) -> ScoreBreakdown {
        let (time, days_left) = time_score(p.window.closes, as_of, a);
        let mut s = ScoreBreakdown {
            total: 0.0,
            // A policy is not a loan: its fit to the need shows in the benefit it brings.
            need_fit: 0.5,
            need_fit_parts: None,
            text: signal(&signals.text, &|| &p.id),
            semantic: signal(&signals.semantic, &|| &p.id),
            attractiveness: benefit_score(benefit_yuan),
            rate_bp: None,
            benefit: None,
            time,
            days_left,
        };
        s.total = s.weighted(w);
        s
    }

    fn weighted(&self, w: &Weights) -> f32 {
        w.need_fit * self.need_fit
            + w.text * self.text
            + w.semantic * self.semantic
            + w.attractiveness * self.attractiveness
            + w.time * self.time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn benefit(basis: BenefitBasis, percent_bp: Option<i64>) -> Benefit {
        Benefit {
            basis,
            percent_bp,
            amount: None,
            cap_per_enterprise: None,
            cap_per_year: None,
            duration_months: Some(12),
            summary: String::new(),
        }
    }

    #[test]
    fn interest_subsidy_on_three_million_for_a_year() {
        let need = FinancingNeed {
            amount: Some(3_000_000),
            term_months: Some(12),
            ..Default::default()
        };
        // 50% of the interest on ¥3,000,000 at 3.45% for 12 months = ¥51,750.
        let e = estimate_benefit(
            &benefit(BenefitBasis::Interest, Some(5000)),
            Some(&need),
            345,
            &Assumptions::default(),
        );
        assert_eq!(e.yuan, 51_750);
        // Capped per enterprise.
        let capped = Benefit {
            cap_per_enterprise: Some(30_000),
            ..benefit(BenefitBasis::Interest, Some(5000))
        };
        let e = estimate_benefit(&capped, Some(&need), 345, &Assumptions::default());
        assert_eq!(e.yuan, 30_000);
        assert!(e.basis.contains("封顶3万元"), "{}", e.basis);
    }

    #[test]
    fn other_bases() {
        let need = FinancingNeed {
            amount: Some(2_000_000),
            term_months: Some(24),
            ..Default::default()
        };
        let a = Assumptions::default();
        // 50% of LPR 3% on ¥2,000,000, duration limited to 12 months = ¥30,000.
        assert_eq!(
            estimate_benefit(
                &benefit(BenefitBasis::Lpr, Some(5000)),
                Some(&need),
                400,
                &a
            )
            .yuan,
            30_000
        );
        // 1 percentage point for 12 months = ¥20,000.
        assert_eq!(
            estimate_benefit(
                &benefit(BenefitBasis::RatePoints, Some(100)),
                Some(&need),
                400,
                &a
            )
            .yuan,
            20_000
        );
        let fixed = Benefit {
            amount: Some(30_000),
            ..benefit(BenefitBasis::Fixed, None)
        };
        assert_eq!(estimate_benefit(&fixed, None, 400, &a).yuan, 30_000);
        assert_eq!(
            estimate_benefit(
                &benefit(BenefitBasis::LenderLoss, Some(5000)),
                None,
                400,
                &a
            )
            .yuan,
            0
        );
    }

    #[test]
    fn components_are_bounded() {
        assert_eq!(rate_score(200), 1.0);
        assert_eq!(rate_score(1500), 0.0);
        assert!((benefit_score(100_000) - 0.5).abs() < 1e-6);
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert_eq!(time_score(Some(d), d, &Assumptions::default()).0, 1.0);
        assert_eq!(
            time_score(
                NaiveDate::from_ymd_opt(2027, 6, 1),
                d,
                &Assumptions::default()
            )
            .0,
            0.0
        );
    }
}
