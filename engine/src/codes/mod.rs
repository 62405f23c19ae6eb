//! National code standards: credit codes, regions, industries and enterprise size.

pub mod credit_code;
pub mod industry;
pub mod region;
pub mod size;

pub use credit_code::{CreditCode, CreditCodeError};
pub use size::{SizeClass, SizeResult};
