//! Venues as they really run (MODEL.md sections 2 and 4): the mark apart from the book.

mod common;

use std::path::PathBuf;

use common::{parse, run};

/// A minute-bar index file: flat at 100 for five minutes, then `dip` lower for the rest of
/// the hour (the issue's "an index that dips 0.6% and stays there").
fn dip_file(name: &str, dip: f64) -> PathBuf {
    let dir = common::temp_dir(name);
    let path = dir.join("index.csv");
    let mut csv = String::from("unix,close\n");
    for k in 0..=60u32 {
        let price = if k < 5 { 100.0 } else { 100.0 * (1.0 - dip) };
        csv.push_str(&format!("{},{price}\n", 1_600_000_000 + 60 * k));
    }
    std::fs::write(&path, csv).unwrap();
    path
}

/// A venue of 1,000 accounts at 2x to 100x on a thin book, whose index dips by `dip`, marked
/// by `mark`.
fn venue(path: &std::path::Path, mark: &str) -> String {
    format!(
        r#"
[experiment]
seeds = 40
master_seed = 7
steps = 55
dt_seconds = 60.0

[market]
s0 = 100.0
impact_half_life_minutes = 10.0

[market.mark]
{mark}

[market.model]
kind = "replay"
path = {path:?}
price_column = "close"
time_column = "unix"

[market.book]
kind = "linear"
depth_usd = 5e5

[traders]
count = 1000
leverage = {{ kind = "log_uniform", min = 2.0, max = 100.0 }}

[margin]
imr = 0.01
mmr = 0.005

[liquidation]
penalty_rate = 0.005
fund_share = 1.0

[fund]
initial = 1e6
on_depletion = "adl"
"#
    )
}

/// Under `index` and under `fair` (whose basis is the last funding interval's, 0 within the
/// first) a wave of forced sells that crashes the book makes no other position due: every
/// liquidation is of a position liquidatable at the index. Under `book`, the same accounts
/// on the same path cascade.
#[test]
fn an_index_anchored_mark_never_induces_a_liquidation() {
    let path = dip_file("index-mark", 0.006);
    let book = run(&parse(&venue(&path, r#"rule = "book""#)), 2);
    let cascaded: Vec<f64> = book.rows.iter().filter_map(|r| r.induced_share).collect();
    assert_eq!(cascaded.len(), book.rows.len(), "every seed liquidates");
    assert!(
        cascaded.iter().all(|&s| s > 0.0),
        "under the book mark the dip cascades: {cascaded:?}"
    );
    for rule in [r#"rule = "index""#, r#"rule = "fair""#] {
        let anchored = run(&parse(&venue(&path, rule)), 2);
        for (r, b) in anchored.rows.iter().zip(&book.rows) {
            assert_eq!(
                r.induced_share.unwrap_or(0.0),
                0.0,
                "{rule}, seed {}",
                r.seed
            );
            assert!(
                r.liquidation_notional < b.liquidation_notional,
                "{rule}, seed {}: {} against the book's {}",
                r.seed,
                r.liquidation_notional,
                b.liquidation_notional
            );
        }
    }
}

/// A volatile venue on a GBM index, with `extra` in `[traders]`.
fn gbm_venue(extra: &str) -> String {
    format!(
        r#"
[experiment]
seeds = 24
master_seed = 11
steps = 240

[market]
s0 = 100.0
model = {{ kind = "gbm", vol = 1.2 }}
book = {{ kind = "linear", depth_usd = 2e6 }}

[traders]
count = 400
leverage = {{ kind = "log_uniform", min = 2.0, max = 100.0 }}
{extra}

[margin]
imr = 0.01
mmr = 0.005

[fund]
initial = 1e6
"#
    )
}

/// Warm books (MODEL.md section 3): a look-back of 0 is the cold start, bit for bit; a
/// look-back opens positions at other prices (every one a survivor: the unit tests in
/// simulation/warm_start.rs scan each path), and the ledger balances after every step.
#[test]
fn a_warm_book_of_no_look_back_is_the_cold_start() {
    let cold = run(&parse(&gbm_venue("")), 2);
    let zero = run(&parse(&gbm_venue("warm_start_hours = 0.0")), 1);
    let warm = run(&parse(&gbm_venue("warm_start_hours = 24.0")), 2);
    let key = |r: &backstop::simulation::RunRow| {
        (
            r.bad_debt.to_bits(),
            r.liquidation_notional.to_bits(),
            r.required_capital.to_bits(),
            r.open_interest.to_bits(),
        )
    };
    for (c, z) in cold.rows.iter().zip(&zero.rows) {
        assert_eq!(key(c), key(z), "seed {}", c.seed);
    }
    let moved = cold
        .rows
        .iter()
        .zip(&warm.rows)
        .filter(|(c, w)| c.open_interest != w.open_interest)
        .count();
    assert_eq!(
        moved,
        cold.rows.len(),
        "every warm book opens at other entries"
    );
}

/// A warm book is refused where its look-back has no meaning, naming the field.
#[test]
fn a_warm_book_on_a_replay_or_a_record_is_refused() {
    let path = dip_file("warm-replay", 0.006);
    let text = venue(&path, r#"rule = "book""#)
        .replace("[traders]\n", "[traders]\nwarm_start_hours = 24.0\n");
    let Err(e) = backstop::config::Experiment::parse(
        &text,
        std::path::Path::new("warm.toml"),
        backstop::config::Overrides::default(),
    ) else {
        panic!("a warm book on a replay is refused")
    };
    assert!(e.to_string().contains("traders.warm_start_hours"), "{e}");
    assert!(e.to_string().contains("replay"), "{e}");
    let record = gbm_venue("warm_start_hours = 24.0\nopen_interest_usd = 1e8");
    let Err(e) = backstop::config::Experiment::parse(
        &record,
        std::path::Path::new("warm.toml"),
        backstop::config::Overrides::default(),
    ) else {
        panic!("a warm book with a record's open interest is refused")
    };
    assert!(e.to_string().contains("open_interest_usd"), "{e}");
}
