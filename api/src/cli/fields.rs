//! `huiqi fields`: the field registry as a table.

use std::io::Write;

use huiqi_engine::fields::{FIELDS, FieldType, Sensitivity};

use super::CliResult;

fn type_text(ty: FieldType) -> String {
    match ty {
        FieldType::Enum(values) => format!("category: {}", values.join(" / ")),
        FieldType::Set(Some(values)) => format!("label set: {}", values.join(" / ")),
        other => other.name().to_string(),
    }
}

fn sensitivity(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Public => "public",
        Sensitivity::Restricted => "restricted",
        Sensitivity::Personal => "personal",
    }
}

/// The Markdown table of the registry, as embedded in docs/rules.md.
pub fn markdown() -> String {
    let mut out = String::from(
        "| field | 中文 | type | unit | category | sensitivity |\n|---|---|---|---|---|---|\n",
    );
    for f in FIELDS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            f.name,
            f.label,
            type_text(f.ty),
            f.unit,
            f.category.label(),
            sensitivity(f.sensitivity)
        ));
    }
    out
}

pub(super) fn run(as_markdown: bool, out: &mut dyn Write) -> CliResult {
    if as_markdown {
        out.write_all(markdown().as_bytes())?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = FIELDS
        .iter()
        .map(|f| {
            vec![
                f.name.to_string(),
                f.label.to_string(),
                type_text(f.ty),
                f.unit.to_string(),
                f.category.label().to_string(),
                sensitivity(f.sensitivity).to_string(),
            ]
        })
        .collect();
    out.write_all(
        crate::table::render(
            &["field", "中文", "type", "unit", "category", "sensitivity"],
            &rows,
        )
        .as_bytes(),
    )?;
    Ok(())
}
