//! The `huiqi` binary as a user runs it: output, exit codes, and no panics on bad input.

use std::path::Path;
use std::process::{Command, Output};

fn huiqi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .output()
        .expect("run huiqi")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

const FIRM: &str = r#"{"id": "E-CLI-1", "credit_code": "913301060000000013", "name": "杭州云栖数联科技有限公司",
 "registration": {"region": "330106", "industry": "I65", "established": "2021-05-10"},
 "scale": {"employees": 38, "revenue": 12000000}, "tax": {"credit_grade": "B"}, "judicial": {"dishonest": false}}"#;

#[test]
fn check_accepts_a_good_rule_and_prints_it_canonically() {
    let o = huiqi(&[
        "check",
        r#"region under "330100" and years_since(established)>=2 and tax_grade in ["A","B"]"#,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(
            r#"region under "3301" and years_since(established) >= 2 and tax_grade in ["A", "B"]"#
        ) || text(&o).contains(r#"region under "330100""#),
        "{}",
        text(&o)
    );
}

#[test]
fn check_rejects_a_bad_rule_with_position_suggestion_and_exit_2() {
    let o = huiqi(&["check", "years_since(established) >= 2 and employes < 300"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("line 1, column 35"), "{t}");
    assert!(t.contains("did you mean `employees`"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn check_reports_syntax_errors_with_found_and_expected() {
    let o = huiqi(&["check", "tax_grade in [\"A\" \"B\"]"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("found string \"B\", expected `,` or `]`"),
        "{}",
        text(&o)
    );
}

#[test]
fn eval_prints_a_chinese_table_with_every_clause() {
    let firm = temp_file("firm.json", FIRM);
    let o = huiqi(&[
        "eval",
        "--enterprise",
        firm.to_str().unwrap(),
        "--as-of",
        "2026-11-21",
        "--rule",
        r#"region under "3301" and years_since(established) >= 2 and tax_grade in ["A", "B"] and not dishonest and rd_ratio >= 4%"#,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for expected in [
        "结果：可能符合，待确认",
        "注册地",
        "成立年限",
        "5年（2021-05-10）",
        "纳税信用等级",
        "研发费用占营业收入比例",
        "? 待确认",
        "待补充信息：研发费用占营业收入比例（rd_ratio）",
    ] {
        assert!(t.contains(expected), "missing {expected:?} in\n{t}");
    }
}

#[test]
fn eval_json_is_machine_readable() {
    let firm = temp_file("firm2.json", FIRM);
    let o = huiqi(&[
        "eval",
        "--enterprise",
        firm.to_str().unwrap(),
        "--as-of",
        "2026-11-21",
        "--json",
        "--rule",
        "employees < 300 and high_tech",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["explanation"]["outcome"], "needs_info");
    assert_eq!(v["explanation"]["clauses"][0]["verdict"], "pass");
    assert_eq!(v["explanation"]["unknown_fields"][0]["field"], "high_tech");
}

#[test]
fn bad_inputs_exit_2_without_panicking() {
    let broken = temp_file("broken.json", "{\"id\": \"E1\", \"credit_code\": ");
    let bad_code = temp_file(
        "badcode.json",
        &FIRM.replace("913301060000000013", "913301060000000014"),
    );
    let unknown_field = temp_file("unknown.json", &FIRM.replace("\"name\"", "\"nmae\""));
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "eval",
            "--enterprise",
            "/nonexistent.json",
            "--rule",
            "true",
        ],
        vec![
            "eval",
            "--enterprise",
            broken.to_str().unwrap(),
            "--rule",
            "true",
        ],
        vec![
            "eval",
            "--enterprise",
            bad_code.to_str().unwrap(),
            "--rule",
            "true",
        ],
        vec![
            "eval",
            "--enterprise",
            unknown_field.to_str().unwrap(),
            "--rule",
            "true",
        ],
        vec![
            "eval",
            "--enterprise",
            bad_code.to_str().unwrap(),
            "--rule",
            "revenue >",
        ],
        vec![
            "eval",
            "--enterprise",
            "x.json",
            "--rule",
            "true",
            "--as-of",
            "2026-02-30",
        ],
        vec!["check", ""],
    ];
    for args in cases {
        let o = huiqi(&args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(!t.contains("panicked"), "{args:?}: {t}");
    }
    let t = text(&huiqi(&[
        "eval",
        "--enterprise",
        bad_code.to_str().unwrap(),
        "--rule",
        "true",
    ]));
    assert!(
        t.contains("credit_code") && t.contains("position 18"),
        "{t}"
    );
    let t = text(&huiqi(&[
        "eval",
        "--enterprise",
        unknown_field.to_str().unwrap(),
        "--rule",
        "true",
    ]));
    assert!(t.contains("unknown field `nmae`"), "{t}");
}

#[test]
fn fields_lists_the_registry() {
    let o = huiqi(&["fields"]);
    assert!(o.status.success());
    assert!(text(&o).contains("tax_grade") && text(&o).contains("纳税信用等级"));
}

#[test]
fn docs_field_table_matches_the_registry() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md"))
            .unwrap();
    assert!(
        doc.contains(&huiqi_api::cli::fields::markdown()),
        "docs/rules.md is out of date: regenerate its field table with `huiqi fields --markdown`"
    );
}

#[test]
fn generate_is_deterministic() {
    let a = huiqi(&["generate", "--count", "5", "--seed", "9"]);
    let b = huiqi(&["generate", "--count", "5", "--seed", "9"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(String::from_utf8_lossy(&a.stdout).lines().count(), 5);
}

#[test]
fn docs_csv_table_matches_the_mapping() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/input.md"))
            .unwrap();
    assert!(
        doc.contains(&huiqi_index::enterprise_csv::markdown()),
        "docs/input.md is out of date with enterprise_csv::COLUMNS"
    );
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_build_killed_at_any_point_leaves_the_previous_snapshot_usable() {
    use std::os::unix::process::ExitStatusExt;
    let data = scratch("crash");
    let data_arg = data.to_str().unwrap();
    let build = [
        "index",
        "build",
        "--input",
        "fixtures",
        "--out",
        data_arg,
        "--embedder",
        "lexical",
    ];
    assert!(huiqi(&build).status.success());
    let points = [
        "build:after-text",
        "build:after-embedding",
        "build:before-publish",
        "publish:before-rename",
        "publish:before-switch",
    ];
    for point in points {
        let o = Command::new(env!("CARGO_BIN_EXE_huiqi"))
            .args(build)
            .env("HUIQI_FAILPOINT", point)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
            .output()
            .unwrap();
        assert_eq!(
            o.status.signal(),
            Some(6),
            "{point}: the build should have aborted: {}",
            text(&o)
        );
        // The live snapshot is the first one, complete and searchable.
        assert_eq!(
            std::fs::read_to_string(data.join("current"))
                .unwrap()
                .trim(),
            "v000001",
            "{point}"
        );
        let store = huiqi_index::snapshot::Store::open(&data).unwrap();
        assert_eq!(store.current().manifest.counts.policies, 30, "{point}");
        let o = huiqi(&["search", "首贷贴息", "--data", data_arg, "--json"]);
        assert!(o.status.success(), "{point}: {}", text(&o));
    }
    // The next build cleans up what the crashes left and publishes.
    assert!(huiqi(&build).status.success());
    let current = std::fs::read_to_string(data.join("current")).unwrap();
    assert_ne!(current.trim(), "v000001");
    let leftovers: Vec<_> = std::fs::read_dir(data.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn index_build_reports_every_input_error_and_exits_2() {
    let dir = scratch("bad-input");
    std::fs::create_dir_all(dir.join("input/products")).unwrap();
    std::fs::write(
        dir.join("input/products/p.json"),
        r#"[{"id": "X", "name": 1}]"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("input/enterprises.jsonl"),
        "{\"id\": \"E1\", \"credit_code\": \"913301060000000014\", \"name\": \"某公司\"}\n",
    )
    .unwrap();
    let o = huiqi(&[
        "index",
        "build",
        "--input",
        dir.join("input").to_str().unwrap(),
        "--out",
        dir.join("data").to_str().unwrap(),
        "--embedder",
        "lexical",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("p.json") && t.contains("enterprises.jsonl:1") && t.contains("credit_code"),
        "{t}"
    );
    assert!(t.contains("nothing was published"), "{t}");
    assert!(!dir.join("data/current").exists());
    let o = huiqi(&[
        "search",
        "贴息",
        "--data",
        dir.join("data").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("huiqi index build"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn search_prints_ranked_hits_with_snippets_and_filters() {
    let data = scratch("search");
    let data_arg = data.to_str().unwrap();
    assert!(
        huiqi(&[
            "index",
            "build",
            "--input",
            "fixtures",
            "--out",
            data_arg,
            "--embedder",
            "lexical"
        ])
        .status
        .success()
    );
    let o = huiqi(&["search", "研发补贴", "--data", data_arg]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("【研发】"), "{}", text(&o));
    let o = huiqi(&[
        "search",
        "贷款",
        "--data",
        data_arg,
        "--doc",
        "product",
        "--kind",
        "涉农贷",
        "--json",
    ]);
    let hits: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|h| h["kind"] == "涉农贷" && h["doc"] == "product"),
        "{hits:?}"
    );
    let o = huiqi(&[
        "search",
        "知识产权质押融资",
        "--data",
        data_arg,
        "--semantic",
        "--limit",
        "3",
    ]);
    assert!(
        o.status.success() && text(&o).contains("lexical-ngram-v1"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn match_prints_three_lists_and_what_to_add() {
    let data = scratch("match");
    let data_arg = data.to_str().unwrap();
    assert!(
        huiqi(&[
            "index",
            "build",
            "--input",
            "fixtures",
            "--out",
            data_arg,
            "--embedder",
            "lexical"
        ])
        .status
        .success()
    );
    let o = huiqi(&[
        "match",
        "--enterprise",
        "E-0002",
        "--data",
        data_arg,
        "--as-of",
        "2026-11-21",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for heading in [
        "== 符合条件",
        "== 可能符合，待补充信息",
        "== 差一点符合",
        "== 建议优先补充的信息",
        "得分",
        "不符合：研发费用占营业收入比例为 3.8%，要求 ≥ 4%",
    ] {
        assert!(t.contains(heading), "missing {heading:?} in\n{t}");
    }
    let o = huiqi(&[
        "match",
        "--enterprise",
        "E-0002",
        "--data",
        data_arg,
        "--as-of",
        "2026-11-21",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["eligible"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["outcome"] == "eligible" && m["score"]["total"].is_number())
    );
    assert!(v["ask_next"][0]["offers"].as_u64().unwrap() >= 1);
    let o = huiqi(&["match", "--enterprise", "E-NOPE", "--data", data_arg]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn reach_counts_who_a_policy_would_reach() {
    let data = scratch("reach");
    let data_arg = data.to_str().unwrap();
    assert!(
        huiqi(&[
            "index",
            "build",
            "--input",
            "fixtures",
            "--out",
            data_arg,
            "--embedder",
            "lexical"
        ])
        .status
        .success()
    );
    let o = huiqi(&[
        "reach",
        "--policy",
        "P-B02",
        "--data",
        data_arg,
        "--as-of",
        "2026-11-21",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["enterprises"], 340);
    let eligible = v["eligible"].as_u64().unwrap();
    assert!(eligible >= 1, "{v}");
    // Every eligible enterprise is in Zhejiang (the policy is Hangzhou's), and counts add up.
    let by_province = v["by_province"].as_array().unwrap();
    let sum: u64 = by_province
        .iter()
        .map(|g| g["eligible"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, eligible);
    assert!(
        by_province
            .iter()
            .all(|g| g["eligible"] == 0 || g["key"] == "33"),
        "{by_province:?}"
    );
    assert!(
        v["sample_eligible"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "E-0007"),
        "{v}"
    );
    let o = huiqi(&["reach", "--policy", "P-NOPE", "--data", data_arg]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn extract_prints_a_draft_with_citations_and_json() {
    let o = huiqi(&["extract", "fixtures/policies/P-B01.json"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(r#"region under "440305""#), "{t}");
    assert!(t.contains("rd_ratio >= 4%"), "{t}");
    assert!(t.contains("revenue < 2亿"), "{t}");
    assert!(t.contains("原文：对注册地在南山区"), "{t}");
    assert!(t.contains("申报时间：2026-03-01 至 2026-12-31"), "{t}");

    let o = huiqi(&["extract", "--json", "fixtures/policies/P-B01.json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["benefit"]["basis"], "interest");
    assert_eq!(v["benefit"]["percent_bp"], 7000);
    assert_eq!(v["benefit"]["cap_per_year"], 1_000_000);
    assert_eq!(v["regions"][0], "440305");
    let rule = v["rule"].as_str().unwrap();
    assert!(huiqi_engine::rule::compile(rule).is_ok(), "{rule}");

    // A plain text file works too; a missing file is the user's fault (exit 2).
    let txt = temp_file(
        "policy.txt",
        "对注册地在南山区、纳入全国科技型中小企业信息库、上年度研发费用占营业收入比例不低于4%的企业，按实际支付利息的70%给予贴息，每家每年最高100万元。",
    );
    let o = huiqi(&["extract", txt.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("tech_sme"), "{}", text(&o));
    let o = huiqi(&["extract", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn extract_eval_prints_precision_and_recall_per_policy_and_total() {
    let o = huiqi(&["extract", "--eval", "fixtures/policies"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("| P-A01 |"), "{t}");
    assert!(t.contains("| P-C08 |"), "{t}");
    assert!(t.contains("**total** (30 policies)"), "{t}");
    assert!(t.contains("**P-C*** (8 policies)"), "{t}");
}
