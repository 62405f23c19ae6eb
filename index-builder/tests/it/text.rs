//! Chinese full-text search over the real fixtures: segmentation, ranking, filters, updates,
//! persistence, hostile input and snippets; and the business-scope index.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use huiqi_engine::model::{Policy, Product};
use huiqi_index::Catalog;
use huiqi_index::text::{DocKind, Filters, ScopeIndex, TextHit, TextIndex};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "huiqi-text-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let (catalog, report) =
            huiqi_index::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"));
        assert!(!report.has_errors(), "{report:?}");
        assert!(catalog.products.len() > 50 && catalog.policies.len() > 20);
        catalog
    })
}

fn products() -> Vec<Product> {
    catalog().products.iter().map(|c| c.item.clone()).collect()
}

fn policies() -> Vec<Policy> {
    catalog().policies.iter().map(|c| c.item.clone()).collect()
}

fn product(id: &str) -> Product {
    products().into_iter().find(|p| p.id == id).unwrap()
}

fn policy(id: &str) -> Policy {
    policies().into_iter().find(|p| p.id == id).unwrap()
}

/// Regions of a fixture record by id.
fn regions_of(id: &str) -> Vec<String> {
    products()
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.regions)
        .or_else(|| {
            policies()
                .into_iter()
                .find(|p| p.id == id)
                .map(|p| p.regions)
        })
        .unwrap()
}

/// All fixture products and policies indexed in a fresh directory.
fn fixture_index(name: &str) -> (TempDir, TextIndex) {
    let dir = TempDir::new(name);
    let index = TextIndex::create(&dir.0).unwrap();
    index.add_products(&products()).unwrap();
    index.add_policies(&policies()).unwrap();
    (dir, index)
}

fn search(index: &TextIndex, query: &str, filters: &Filters) -> Vec<TextHit> {
    index.search(query, filters, 1000).unwrap()
}

fn ids(hits: &[TextHit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

fn id_set(hits: &[TextHit]) -> BTreeSet<String> {
    hits.iter().map(|h| h.id.clone()).collect()
}

fn everything() -> Filters {
    Filters::default()
}

#[test]
fn every_fixture_record_is_indexed_once() {
    let (_dir, index) = fixture_index("count");
    let n = (catalog().products.len() + catalog().policies.len()) as u64;
    assert_eq!(index.len(), n);
    // Adding the same records again replaces them instead of duplicating them.
    index.add_products(&products()).unwrap();
    assert_eq!(index.len(), n);
}

#[test]
fn an_unspaced_query_finds_its_words_apart() {
    // No fixture says 研发补贴 literally, so a phrase query would find nothing.
    for p in policies() {
        assert!(
            !format!("{}{}", p.title, p.text).contains("研发补贴"),
            "{}",
            p.id
        );
    }
    // A policy derived from the real P-A10 (研发投入奖补) whose prose says 研发费用…补贴.
    let original = policy("P-A10");
    let mut derived = original.clone();
    derived.id = "P-A10-RD".into();
    derived.text = original.text.replace("研发费用补助", "研发费用补贴");
    assert!(derived.text.contains("研发费用补贴") && !derived.text.contains("研发补贴"));
    assert!(!original.text.contains("补贴"));

    let (_dir, index) = fixture_index("segment");
    index.upsert_policy(&derived).unwrap();
    let hits = search(&index, "研发补贴", &everything());
    // The derived policy has both words and ranks first; its twin, which lacks 补贴, follows it.
    assert_eq!(hits[0].id, "P-A10-RD", "{:?}", ids(&hits));
    let twin = hits.iter().position(|h| h.id == "P-A10").unwrap();
    assert!(hits[twin].score < hits[0].score);
    // OR semantics: records with only one of the words are found too, ranked lower —
    // 担保费补贴 policies (补贴 only) and 科创贷 products (研发 only).
    let found = id_set(&hits);
    assert!(
        found.contains("P-A03") && found.contains("QIANTANG-KCD-01"),
        "{found:?}"
    );
    for h in &hits[1..] {
        assert!(h.score <= hits[0].score);
    }
}

#[test]
fn a_title_match_outranks_a_body_only_match() {
    let (_dir, index) = fixture_index("title");
    let hits = search(&index, "知识产权", &everything());
    let in_title: Vec<bool> = hits.iter().map(|h| h.title.contains("知识产权")).collect();
    assert!(
        in_title.iter().filter(|&&t| t).count() >= 4,
        "{:?}",
        ids(&hits)
    );
    assert!(
        in_title.iter().any(|&t| !t),
        "expected body-only matches too"
    );
    // Every title match comes before every body-only match.
    let first_body_only = in_title.iter().position(|&t| !t).unwrap();
    assert!(
        in_title[first_body_only..].iter().all(|&t| !t),
        "{:?}",
        hits.iter()
            .map(|h| (&h.id, &h.title, h.score))
            .collect::<Vec<_>>()
    );
    // The body-only matches are real: e.g. 恒信科创担保 mentions 知识产权反担保.
    assert!(ids(&hits[first_body_only..]).contains(&"HENGXIN-DB-02"));
}

#[test]
fn filters_by_doc_kind_kind_and_institution() {
    let (_dir, index) = fixture_index("filters");
    let all = search(&index, "贴息", &everything());
    let policies_only = search(
        &index,
        "贴息",
        &Filters {
            doc: Some(DocKind::Policy),
            ..Filters::default()
        },
    );
    let products_only = search(
        &index,
        "贴息",
        &Filters {
            doc: Some(DocKind::Product),
            ..Filters::default()
        },
    );
    assert!(policies_only.iter().all(|h| h.doc == DocKind::Policy));
    assert!(products_only.iter().all(|h| h.doc == DocKind::Product));
    assert!(!policies_only.is_empty() && !products_only.is_empty());
    // The two halves make the whole, and filtering does not change the scores.
    let mut halves = id_set(&policies_only);
    halves.extend(id_set(&products_only));
    assert_eq!(halves, id_set(&all));
    for h in &policies_only {
        let same = all.iter().find(|a| a.id == h.id).unwrap();
        assert!((same.score - h.score).abs() < 1e-4);
    }

    // Kind: exactly the 首贷贴息 policies.
    let first_loan = search(
        &index,
        "贴息",
        &Filters {
            kind: Some("首贷贴息".into()),
            ..Filters::default()
        },
    );
    let expected: BTreeSet<String> = policies()
        .into_iter()
        .filter(|p| serde_json::to_value(p.kind).unwrap() == "首贷贴息")
        .map(|p| p.id)
        .collect();
    assert_eq!(id_set(&first_loan), expected);
    assert!(first_loan.iter().all(|h| h.kind == "首贷贴息"));
    assert!(expected.contains("P-A01") && expected.contains("P-B02"));

    // Institution: exactly the unfiltered hits of 钱塘银行, with the same order.
    let query = "纯信用 线上办理";
    let qiantang = search(
        &index,
        query,
        &Filters {
            institution: Some("BANK-QIANTANG".into()),
            ..Filters::default()
        },
    );
    let unfiltered = search(&index, query, &everything());
    let expected: Vec<&str> = unfiltered
        .iter()
        .filter(|h| h.institution == "BANK-QIANTANG")
        .map(|h| h.id.as_str())
        .collect();
    assert!(expected.len() >= 3 && expected.len() < unfiltered.len());
    assert_eq!(ids(&qiantang), expected);
    // 钱塘科技e贷 (纯信用) and 钱塘政采通 (纯信用, 线上办理) are among them.
    assert!(expected.contains(&"QIANTANG-KCD-01") && expected.contains(&"QIANTANG-ZCD-01"));

    // A policy issuer works the same way.
    let hangzhou = search(
        &index,
        "首贷",
        &Filters {
            institution: Some("杭州市财政局".into()),
            ..Filters::default()
        },
    );
    assert_eq!(ids(&hangzhou), ["P-B02"]);
}

#[test]
fn the_region_filter_keeps_what_serves_the_place() {
    let (_dir, index) = fixture_index("region");
    let query = "贷款 贴息 融资 担保";
    let here = Filters {
        region: Some("330106".into()),
        ..Filters::default()
    };
    let hits = search(&index, query, &here);
    let found = id_set(&hits);
    // Hangzhou-only product, Zhejiang-only policy, nationwide product and policy.
    for id in [
        "QIANTANG-KCD-01",
        "P-A01",
        "P-B02",
        "CHANGFENG-XYD-01",
        "P-A09",
    ] {
        assert!(found.contains(id), "{id} missing from {found:?}");
    }
    // Shenzhen-only product and policy, Ningbo-only policy, Jiangsu-only policy.
    for id in ["PENGWAN-XYD-01", "P-B01", "P-A11", "P-A03"] {
        assert!(!found.contains(id), "{id} should be filtered out");
    }
    // Every hit serves 330106: nationwide, or a region that is 330106 or one of its ancestors.
    for id in &found {
        let regions = regions_of(id);
        assert!(
            regions.is_empty()
                || regions
                    .iter()
                    .any(|r| huiqi_engine::codes::region::is_under("330106", r)),
            "{id} {regions:?}"
        );
    }
    // And no record that serves 330106 and matches is missing.
    let unfiltered = search(&index, query, &everything());
    let serving: BTreeSet<String> = unfiltered
        .iter()
        .map(|h| h.id.clone())
        .filter(|id| {
            let regions = regions_of(id);
            regions.is_empty()
                || regions
                    .iter()
                    .any(|r| huiqi_engine::codes::region::is_under("330106", r))
        })
        .collect();
    assert_eq!(found, serving);

    // Codes in the 00-padded form mean the same as the prefix form.
    let city = search(
        &index,
        query,
        &Filters {
            region: Some("330100".into()),
            ..Filters::default()
        },
    );
    let city_ids = id_set(&city);
    assert!(city_ids.contains("QIANTANG-KCD-01") && !city_ids.contains("P-B09"));

    // Filters combine: Zhejiang policies only.
    let zj_policies = search(
        &index,
        query,
        &Filters {
            region: Some("330106".into()),
            doc: Some(DocKind::Policy),
            ..Filters::default()
        },
    );
    assert!(zj_policies.iter().all(|h| h.doc == DocKind::Policy));
    assert!(id_set(&zj_policies).contains("P-A01"));

    // A malformed code is the user's fault, reported as such.
    let err = index
        .search(
            query,
            &Filters {
                region: Some("hangzhou".into()),
                ..Filters::default()
            },
            10,
        )
        .unwrap_err();
    assert!(err.is_user_error(), "{err}");
}

#[test]
fn upsert_replaces_and_remove_removes() {
    let (_dir, index) = fixture_index("upsert");
    let n = index.len();
    let old = product("QIANTANG-KCD-01");
    // 时效 (审批时效不超过5个工作日) is in this product only; 算力 is in no product or policy.
    assert!(old.description.contains("时效"));
    assert_eq!(
        ids(&search(&index, "时效", &everything())),
        [old.id.as_str()]
    );
    assert!(search(&index, "算力", &everything()).is_empty());

    let mut new = old.clone();
    new.name = "钱塘算力贷".into();
    new.description =
        "以企业采购的算力服务合同为增信依据，为杭州市数字经济企业提供纯信用贷款。".into();
    index.upsert_product(&new).unwrap();
    assert_eq!(index.len(), n);
    assert!(search(&index, "时效", &everything()).is_empty());
    let hits = search(&index, "算力", &everything());
    assert_eq!(ids(&hits), [old.id.as_str()]);
    assert_eq!(hits[0].title, "钱塘算力贷");

    // A policy the same way, and a new id is simply added.
    let mut p = policy("P-B02");
    p.title = "杭州市2026年度数字贸易企业首贷贴息申报通知".into();
    index.upsert_policy(&p).unwrap();
    assert_eq!(search(&index, "数字贸易", &everything())[0].id, "P-B02");
    p.id = "P-B02-COPY".into();
    index.upsert_policy(&p).unwrap();
    assert_eq!(index.len(), n + 1);

    index.remove(&old.id).unwrap();
    index.remove("P-B02-COPY").unwrap();
    index.remove("NO-SUCH-ID").unwrap();
    assert_eq!(index.len(), n - 1);
    assert!(search(&index, "算力", &everything()).is_empty());
    let tech = search(&index, "科技 纯信用", &everything());
    assert!(!ids(&tech).contains(&old.id.as_str()));
}

#[test]
fn reopening_from_disk_gives_the_same_results() {
    let (dir, index) = fixture_index("reopen");
    let queries = [
        "研发投入",
        "知识产权质押",
        "首贷贴息",
        "外贸 出口信保",
        "应急转贷",
    ];
    let filters = Filters {
        region: Some("330106".into()),
        ..Filters::default()
    };
    let before: Vec<Vec<TextHit>> = queries
        .iter()
        .flat_map(|q| {
            [
                search(&index, q, &everything()),
                search(&index, q, &filters),
            ]
        })
        .collect();
    let n = index.len();
    drop(index);

    let reopened = TextIndex::open(&dir.0).unwrap();
    assert_eq!(reopened.len(), n);
    let after: Vec<Vec<TextHit>> = queries
        .iter()
        .flat_map(|q| {
            [
                search(&reopened, q, &everything()),
                search(&reopened, q, &filters),
            ]
        })
        .collect();
    assert_eq!(before, after);
    // Unfiltered, every query finds something; the filtered runs find something too.
    assert!(before.iter().step_by(2).all(|hits| !hits.is_empty()));
    assert!(
        before
            .iter()
            .skip(1)
            .step_by(2)
            .any(|hits| !hits.is_empty())
    );
    // The reopened index takes writes.
    reopened.remove("P-A01").unwrap();
    assert_eq!(reopened.len(), n - 1);

    // A directory without an index, or with another kind of index, is refused.
    let empty = TempDir::new("reopen-empty");
    assert!(TextIndex::open(&empty.0).is_err());
    assert!(ScopeIndex::open(&dir.0).is_err());
    // create refuses a directory that already holds an index.
    assert!(TextIndex::create(&dir.0).is_err());
}

#[test]
fn hostile_queries_do_not_error() {
    let (_dir, index) = fixture_index("hostile");
    let hostile = [
        "\"",
        "AND OR",
        "title:x",
        "(((",
        "",
        "   ",
        "\u{3000}，。！？",
        "\"研发\" AND (补贴",
        "body:贴息 OR -贷款",
        "*",
        "贷款^3 ~2 +-",
        "[1 TO 2]",
        "\\",
        "IN [a b]",
        "😀🏦",
        "的了和",
    ];
    for q in hostile {
        let hits = index.search(q, &everything(), 10);
        assert!(hits.is_ok(), "{q:?}: {hits:?}");
    }
    for q in [
        "",
        "   ",
        "\"",
        "(((",
        "\u{3000}，。！？",
        "*",
        "\\",
        "的了和",
    ] {
        assert!(
            index.search(q, &everything(), 10).unwrap().is_empty(),
            "{q:?}"
        );
    }
    // The words inside syntax still count as words.
    let hits = index
        .search("\"研发\" AND (补贴", &everything(), 10)
        .unwrap();
    assert!(!hits.is_empty());
    let long = "贷款".repeat(5000);
    assert!(!index.search(&long, &everything(), 10).unwrap().is_empty());
    // No limit is too large or too small.
    assert!(index.search("贷款", &everything(), 0).unwrap().is_empty());
    let all = index.search("贷款", &everything(), usize::MAX).unwrap();
    assert!(all.len() > 10 && all.len() as u64 <= index.len());
}

#[test]
fn snippets_mark_the_matched_terms() {
    let (_dir, index) = fixture_index("snippet");
    let hits = search(&index, "应急转贷", &everything());
    assert!(hits.len() >= 2);
    let mut marked = 0;
    for h in &hits {
        let plain: String = h.snippet.chars().filter(|c| !"【】".contains(*c)).collect();
        assert!(plain.chars().count() <= 120, "{}: {}", h.id, h.snippet);
        assert!(!h.snippet.contains('<') && !h.snippet.contains('\n'));
        assert_eq!(
            h.snippet.matches('【').count(),
            h.snippet.matches('】').count()
        );
        for (i, piece) in h.snippet.split('【').enumerate().skip(1) {
            let term = piece.split('】').next().unwrap();
            assert!(
                ["应急", "转贷", "应急转贷"]
                    .iter()
                    .any(|t| term.contains(t)),
                "{}: marked {term:?} in {} ({i})",
                h.id,
                h.snippet
            );
            marked += 1;
        }
    }
    assert!(marked > 0);
    // The 湖北 policy's snippet quotes its prose with the term marked.
    let hubei = hits.iter().find(|h| h.id == "P-A08").unwrap();
    assert!(hubei.snippet.contains("【应急转贷】"), "{}", hubei.snippet);
    assert!(
        policy("P-A08")
            .text
            .contains(&hubei.snippet.replace(['【', '】'], "")[..12])
    );
}

#[test]
fn scope_index_finds_firms_by_business_scope() {
    let dir = TempDir::new("scopes");
    let index = ScopeIndex::create(&dir.0).unwrap();
    let firms: Vec<(String, String)> = huiqi_engine::synthetic::enterprises(42, 2000)
        .map(|e| (e.id, e.business_scope.unwrap_or_default()))
        .collect();
    let n = index.add(firms.clone().into_iter()).unwrap();
    assert_eq!(n, 2000);
    assert_eq!(index.len(), 2000);

    let software: BTreeSet<String> = firms
        .iter()
        .filter(|(_, scope)| scope.contains("软件开发"))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        software.len() > 20 && software.len() < 1000,
        "{}",
        software.len()
    );
    // The best `software.len()` hits are exactly the firms whose scope says 软件开发 ...
    let top = index.search("软件开发", software.len()).unwrap();
    let top_ids: BTreeSet<String> = top.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(top_ids, software);
    // ... and looser matches (开发 alone: 技术开发) come after them.
    let more = index.search("软件开发", 5000).unwrap();
    assert!(more.len() > software.len());
    let last_software = more[software.len() - 1].1;
    assert!(
        more[software.len()..]
            .iter()
            .all(|(_, s)| *s < last_software)
    );
    assert!(index.search("，。", 10).unwrap().is_empty());
    assert!(index.search("\"AND (((", 10).is_ok());

    // Upsert: a restaurant turns to software; a software firm turns to catering.
    let (restaurant, _) = firms
        .iter()
        .find(|(_, s)| s.contains("餐饮服务") && !s.contains("开发"))
        .unwrap();
    let coder = software.iter().next().unwrap();
    index
        .upsert(restaurant, "软件开发；信息技术咨询服务")
        .unwrap();
    index.upsert(coder, "餐饮服务；食品销售").unwrap();
    assert_eq!(index.len(), 2000);
    let found: BTreeSet<String> = index
        .search("软件开发", 5000)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(found.contains(restaurant));
    assert!(!found.contains(coder));

    index.remove(restaurant).unwrap();
    assert_eq!(index.len(), 1999);
    let found = index.search("软件开发", 5000).unwrap();
    assert!(!found.iter().any(|(id, _)| id == restaurant));

    // Reopened from disk: same answers.
    let before = index.search("软件开发 信息系统集成", 50).unwrap();
    drop(index);
    let reopened = ScopeIndex::open(&dir.0).unwrap();
    assert_eq!(reopened.len(), 1999);
    assert_eq!(
        reopened.search("软件开发 信息系统集成", 50).unwrap(),
        before
    );
}

/// The scale the scope index is built for: a million scopes in one bulk load (about 15 s on two
/// cores in release mode). `cargo test --release -p huiqi-index --test it -- --ignored million`

#[test]
fn published_only_leaves_out_drafts_and_expired_offers() {
    let (_dir, index) = fixture_index("published");
    let all = search(&index, "贴息", &everything());
    let live = search(
        &index,
        "贴息",
        &Filters {
            published_only: true,
            ..everything()
        },
    );
    // P-B09 is a draft and P-B06 expired: found by default, left out when only live offers count.
    assert!(ids(&all).contains(&"P-B09") && ids(&all).contains(&"P-B06"));
    assert!(!ids(&live).contains(&"P-B09") && !ids(&live).contains(&"P-B06"));
    assert!(live.len() < all.len() && !live.is_empty());
}
