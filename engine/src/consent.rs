//! Consent: which reader may use which credit-information category of an enterprise.
//!
//! The enterprise itself sees everything. Anyone else may use a category that needs consent
//! only under a grant naming the reader's role or institution that is still valid on the day
//! of use. Public registration data and the enterprise's own financing need are always usable.

use chrono::NaiveDate;

use crate::fields::Category;
use crate::model::{Enterprise, Grantee, Reader, Role};

impl Enterprise {
    /// True when `reader` may use `category` of this enterprise on `on`.
    pub fn permits(&self, category: Category, reader: &Reader, on: NaiveDate) -> bool {
        if reader.role == Role::Enterprise && reader.org.as_deref() == Some(self.id.as_str()) {
            return true;
        }
        if !category.needs_consent() {
            return true;
        }
        self.consents.iter().any(|g| {
            g.category == category
                && g.until.is_none_or(|until| on <= until)
                && g.grantees.iter().any(|who| match who {
                    Grantee::Role(role) => *role == reader.role,
                    Grantee::Institution(id) => {
                        reader.role == Role::Institution && reader.org.as_deref() == Some(id)
                    }
                })
        })
    }
}
