//! Who may do what: the actor behind a token, the scope of each role, and how enterprise
//! data is shown to each reader (categories withheld without consent, personal fields masked).
//!
//! | role | scope | enterprise data |
//! |---|---|---|
//! | enterprise | its own id | its own profile, in full |
//! | advisor | the enterprises assigned to it | assigned ones, as consented to advisors |
//! | policy office | a region code | none one by one; counts and public registration data in its region |
//! | institution | its institution id | enterprises that authorised it, as consented to it |
//! | admin | everything | every profile, as consented to the platform operator |
//!
//! Personal fields (legal representative's name, ID number, phone) are masked unless the
//! reader is the enterprise itself or was authorised for the 法定代表人信息 category.

use chrono::NaiveDate;
use huiqi_engine::fields::Category;
use huiqi_engine::model::{Enterprise, LegalRepresentative, Reader, Role, Shareholder};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::audit::{self, Purpose};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub token_id: String,
    pub role: Role,
    /// Enterprise id, advisor id, region code or institution id; `None` for admins.
    pub scope: Option<String>,
    /// The purpose the request declared (`X-Purpose`), checked against the role.
    #[serde(skip)]
    pub purpose: Option<Purpose>,
}

impl Actor {
    /// The platform itself (jobs acting for enterprises).
    pub fn system() -> Actor {
        Actor {
            token_id: "system".into(),
            role: Role::Admin,
            scope: None,
            purpose: None,
        }
    }

    /// The purposes this actor's role may declare; the first is its default.
    pub fn allowed_purposes(&self) -> &'static [Purpose] {
        use Purpose::*;
        match self.role {
            Role::Enterprise => &[ProfileMaintenance, FinancingMatch],
            Role::Advisor => &[AdvisoryReview, FinancingMatch, ProfileMaintenance],
            Role::PolicyOffice => &[PolicyOutreach],
            Role::Institution => &[CreditAssessment, FinancingMatch],
            Role::Admin => &[
                PlatformOversight,
                ProfileMaintenance,
                FinancingMatch,
                AdvisoryReview,
                PolicyOutreach,
            ],
        }
    }

    /// The declared purpose, or `default` when none was declared (or the declared one does
    /// not suit the role, which the HTTP layer has already refused).
    pub fn purpose_or(&self, default: Purpose) -> Purpose {
        self.purpose.unwrap_or(default)
    }

    /// How the engine's consent rules see this actor.
    pub fn reader(&self) -> Reader {
        Reader {
            role: self.role,
            org: self.scope.clone(),
        }
    }

    /// `tok_… advisor:ADV-HZ`, as written in the audit log.
    pub fn describe(&self) -> String {
        match &self.scope {
            Some(s) => format!("{} {}:{s}", self.token_id, role_name(self.role)),
            None => format!("{} {}", self.token_id, role_name(self.role)),
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    /// Errors unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| role_name(*r)).collect();
            Err(Error::forbidden(format!(
                "this {} token cannot {action}; it takes the role {}",
                role_name(self.role),
                allowed.join(" or ")
            ))
            .with_details(serde_json::json!({
                "role": role_name(self.role),
                "allowed_roles": allowed,
            })))
        }
    }

    /// The scope value; roles other than admin always have one.
    pub fn scope(&self) -> &str {
        self.scope.as_deref().unwrap_or("")
    }

    /// An audit entry by this actor.
    pub fn entry(&self, action: &str, target: String, purpose: Purpose) -> audit::Entry {
        audit::Entry {
            actor: self.describe(),
            role: if self.token_id == "system" {
                "system".into()
            } else {
                role_name(self.role).into()
            },
            action: action.into(),
            target,
            purpose,
            detail: None,
        }
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Enterprise => "enterprise",
        Role::Advisor => "advisor",
        Role::PolicyOffice => "policy_office",
        Role::Institution => "institution",
        Role::Admin => "admin",
    }
}

pub fn parse_role(s: &str) -> Option<Role> {
    [
        Role::Enterprise,
        Role::Advisor,
        Role::PolicyOffice,
        Role::Institution,
        Role::Admin,
    ]
    .into_iter()
    .find(|r| role_name(*r) == s)
}

/// Whether an institution may see this enterprise at all: only when the enterprise has
/// authorised it (or all institutions) for some category, on `on`.
pub fn institution_authorised(e: &Enterprise, institution: &str, on: NaiveDate) -> bool {
    let reader = Reader {
        role: Role::Institution,
        org: Some(institution.into()),
    };
    Category::ALL
        .into_iter()
        .filter(|c| c.needs_consent())
        .any(|c| e.permits(c, &reader, on))
}

/// An enterprise's profile as `reader` may see it: categories not authorised for the reader
/// are removed (and listed), personal fields are masked unless authorised.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    pub enterprise: Enterprise,
    /// Categories removed for lack of consent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld_categories: Vec<Category>,
    /// True when personal fields were masked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
    /// The profile's revision (increases with every change).
    pub revision: i64,
}

/// What `reader` may see of `e` on `on`.
pub fn view(e: &Enterprise, revision: i64, reader: &Reader, on: NaiveDate) -> ProfileView {
    let mut out = e.clone();
    let withheld: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|&c| !e.permits(c, reader, on))
        .collect();
    for c in &withheld {
        // Personal data is masked below rather than removed: the reader learns there is a
        // legal representative (张*, 138****1234) but not who.
        if !matches!(c, Category::LegalRep | Category::Shareholders) {
            clear_category(&mut out, *c);
        }
    }
    let own = reader.role == Role::Enterprise && reader.org.as_deref() == Some(e.id.as_str());
    let personal_ok = own || e.permits(Category::LegalRep, reader, on);
    let masked = !personal_ok && (out.legal_rep.is_some() || out.shareholders.is_some());
    if !personal_ok {
        out.legal_rep = out.legal_rep.as_ref().map(mask_legal_rep);
        out.shareholders = out
            .shareholders
            .as_ref()
            .map(|list| list.iter().map(mask_shareholder).collect());
    }
    // Who else was authorised is the enterprise's own business.
    if !own {
        out.consents.clear();
    }
    ProfileView {
        enterprise: out,
        withheld_categories: withheld,
        masked,
        revision,
    }
}

fn clear_category(e: &mut Enterprise, c: Category) {
    match c {
        Category::Registration | Category::Need => {}
        Category::Scale => e.scale = Default::default(),
        Category::Tax => e.tax = Default::default(),
        Category::Judicial => e.judicial = Default::default(),
        Category::SocialInsurance => e.social_insurance = Default::default(),
        Category::IntellectualProperty => e.ip = Default::default(),
        Category::RealEstate => e.real_estate = Default::default(),
        Category::Technology => e.tech = Default::default(),
        Category::Trade => e.trade = Default::default(),
        Category::Environment => e.environment = Default::default(),
        Category::Utilities => e.utilities = Default::default(),
        Category::Agriculture => e.agriculture = Default::default(),
        Category::PublicResource => e.public_resource = Default::default(),
        Category::Credit => e.credit = Default::default(),
        // Masked by `view`, never cleared.
        Category::LegalRep | Category::Shareholders => {}
    }
}

/// 张三 → 张*, 欧阳娜娜 → 欧***.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// Keeps the first `head` and last `tail` characters: 13812341234 → 138****1234.
pub fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

fn mask_legal_rep(r: &LegalRepresentative) -> LegalRepresentative {
    LegalRepresentative {
        name: mask_name(&r.name),
        id_number: r.id_number.as_deref().map(|s| mask_middle(s, 3, 4)),
        phone: r.phone.as_deref().map(|s| mask_middle(s, 3, 4)),
        marital_status: None,
        age: None,
    }
}

fn mask_shareholder(s: &Shareholder) -> Shareholder {
    // Natural persons are personal data; companies are public registration data.
    let person = s.kind.as_deref().is_none_or(|k| k == "自然人");
    Shareholder {
        name: if person {
            mask_name(&s.name)
        } else {
            s.name.clone()
        },
        ..s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_shape_people_recognise() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_middle("13812341234", 3, 4), "138****1234");
        assert_eq!(
            mask_middle("330106199001011234", 3, 4),
            "330***********1234"
        );
        assert_eq!(mask_middle("123", 3, 4), "***");
    }
}
