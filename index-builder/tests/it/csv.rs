//! Enterprises from CSV with Chinese or English headers, and located errors.

use std::path::Path;

use huiqi_index::Report;
use huiqi_index::input::read_enterprises;

fn write(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

const CHINESE: &str = "\u{feff}企业编号,统一社会信用代码,企业名称,注册地区划代码,行业代码,成立日期,从业人员,营业收入,纳税信用等级,高新技术企业,研发费用占比,经营范围,标签\n\
E-C1,913301060000000013,杭州云栖数联科技有限公司,330106,I65,2021/5/10,38,1200万,B,是,6.5%,软件开发；信息系统集成服务,科技；首贷\n\
E-C2,91330106MA2B3C4D5X,杭州某某餐饮有限公司,330106,H62,20190301,,,,,,餐饮服务,\n";

#[test]
fn chinese_headers_map_to_the_profile() {
    let path = write("zh.csv", CHINESE);
    let mut report = Report::default();
    let rows = read_enterprises(&path, &mut report);
    assert_eq!(rows.len(), 2, "{:?}", report.issues);
    let e = &rows[0].item;
    assert_eq!(e.registration.region.as_deref(), Some("330106"));
    assert_eq!(
        e.registration.established.unwrap().to_string(),
        "2021-05-10"
    );
    assert_eq!(e.scale.revenue, Some(12_000_000));
    assert_eq!(e.tech.high_tech, Some(true));
    assert_eq!(e.tech.rd_ratio_bp, Some(650));
    assert_eq!(
        e.tags.as_deref(),
        Some(&["科技".to_string(), "首贷".to_string()][..])
    );
    // Empty cells are unknown, not zero.
    let sparse = &rows[1].item;
    assert_eq!(sparse.scale.employees, None);
    assert_eq!(sparse.tax.credit_grade, None);
    assert_eq!(rows[1].line, 3);
}

#[test]
fn english_headers_work_too() {
    let path = write(
        "en.csv",
        "id,credit_code,name,region,industry,employees,revenue,dishonest\nE-1,913301060000000013,某公司,330106,C39,120,3.5亿,false\n",
    );
    let mut report = Report::default();
    let rows = read_enterprises(&path, &mut report);
    assert!(report.issues.is_empty(), "{:?}", report.issues);
    assert_eq!(rows[0].item.scale.revenue, Some(350_000_000));
    assert_eq!(rows[0].item.judicial.dishonest, Some(false));
}

#[test]
fn unknown_headers_are_reported_with_a_suggestion() {
    let path = write(
        "bad-header.csv",
        "id,credit_code,name,营业收人\nE-1,913301060000000013,某公司,100\n",
    );
    let mut report = Report::default();
    assert!(read_enterprises(&path, &mut report).is_empty());
    let msg = report.issues[0].to_string();
    assert!(
        msg.contains(":1") && msg.contains("营业收人") && msg.contains("did you mean \"营业收入\""),
        "{msg}"
    );
}

#[test]
fn bad_cells_are_located_by_line_and_column_and_every_one_is_reported() {
    let path = write(
        "bad-cells.csv",
        "id,credit_code,name,employees,revenue,成立日期,高新技术企业\nE-1,913301060000000013,甲公司,三十,100万,2020-01-01,是\nE-2,913301060000000013,乙公司,10,很多,2020-13-01,也许\n",
    );
    let mut report = Report::default();
    let rows = read_enterprises(&path, &mut report);
    assert!(rows.is_empty());
    let lines: Vec<String> = report.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(
        lines[0].contains("bad-cells.csv:2")
            && lines[0].contains("employees")
            && lines[0].contains("whole number"),
        "{}",
        lines[0]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":3") && l.contains("revenue"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":3") && l.contains("established"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":3") && l.contains("high_tech"))
    );
}

#[test]
fn fixtures_folder_accepts_a_csv_of_enterprises() {
    let dir = std::env::temp_dir().join(format!("huiqi-csv-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("enterprises.csv"), CHINESE).unwrap();
    let (catalog, report) = huiqi_index::load_dir(Path::new(&dir));
    // The second row's code has a wrong check character: validation reports it.
    assert_eq!(catalog.enterprises.len(), 1);
    assert!(
        report
            .errors()
            .any(|i| i.to_string().contains("enterprises.csv:3")
                && i.to_string().contains("credit_code")),
        "{:?}",
        report.issues
    );
}
