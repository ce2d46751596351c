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

/// The dip file of [`dip_file`] after `before`, minute rows that precede the replay's start
/// (the last of them at the start's price, 100), and the experiment replaying from the
/// start with `traders` added to its `[traders]`.
fn warm_replay(name: &str, before: &[f64], traders: &str) -> String {
    let dir = common::temp_dir(name);
    let path = dir.join("index.csv");
    let t0 = 1_600_000_000i64;
    let mut csv = String::from("unix,close\n");
    for (k, price) in before.iter().enumerate() {
        let t = t0 - 60 * (before.len() - k) as i64;
        csv.push_str(&format!("{t},{price}\n"));
    }
    for k in 0..=60i64 {
        let price = if k < 5 { 100.0 } else { 99.4 };
        csv.push_str(&format!("{},{price}\n", t0 + 60 * k));
    }
    std::fs::write(&path, csv).unwrap();
    venue(&path, r#"rule = "book""#)
        .replace(
            "time_column = \"unix\"\n",
            &format!("time_column = \"unix\"\nstart = \"{t0}\"\n"),
        )
        .replace("[traders]\n", &format!("[traders]\n{traders}\n"))
}

/// A warm book on a replay opens over the file's rows before the start (MODEL.md section
/// 3). Rows flat at the start's price open every position where a cold start does: the
/// runs are the cold start's bit for bit, with a record's open interest too (the fit on the
/// warm book finds the cold start's factor). Rising rows open positions at other prices,
/// and each side is fitted to the record's open interest at t = 0. A look-back longer than
/// the file's rows before the start is refused, naming the field and the file's first date,
/// and so is a warm book on a regime that replays rows.
#[test]
fn a_warm_book_on_a_replay_opens_over_the_rows_before_it() {
    let key = |r: &backstop::simulation::RunRow| {
        (
            r.bad_debt.to_bits(),
            r.liquidation_notional.to_bits(),
            r.required_capital.to_bits(),
            r.open_interest.to_bits(),
        )
    };
    let flat = [100.0; 40];
    for record in ["", "open_interest_usd = 2e7"] {
        let cold = run(&parse(&warm_replay("warm-cold", &flat, record)), 2);
        let warm_text = warm_replay(
            "warm-flat",
            &flat,
            &format!("{record}\nwarm_start_hours = 0.5"),
        );
        let warm = run(&parse(&warm_text), 1);
        for (c, w) in cold.rows.iter().zip(&warm.rows) {
            assert_eq!(key(c), key(w), "seed {} ({record})", c.seed);
        }
    }
    let rising: Vec<f64> = (0..40).map(|k| 80.0 + 0.5 * k as f64).collect();
    let record = "open_interest_usd = 2e7\nwarm_start_hours = 0.5";
    let cold = run(
        &parse(&warm_replay(
            "warm-cold-oi",
            &flat,
            "open_interest_usd = 2e7",
        )),
        2,
    );
    let warm = run(&parse(&warm_replay("warm-rising", &rising, record)), 2);
    for (c, w) in cold.rows.iter().zip(&warm.rows) {
        assert!(
            (w.open_interest / 2e7 - 1.0).abs() < 1e-9,
            "{}",
            w.open_interest
        );
        assert_ne!(
            key(c),
            key(w),
            "seed {}: a warm book opens at other entries",
            c.seed
        );
    }
    let long = warm_replay("warm-long", &flat, "warm_start_hours = 1.0");
    let Err(e) = backstop::config::Experiment::parse(
        &long,
        std::path::Path::new("warm.toml"),
        backstop::config::Overrides::default(),
    ) else {
        panic!("a look-back longer than the rows before the start is refused")
    };
    let e = e.to_string();
    assert!(e.contains("traders.warm_start_hours"), "{e}");
    assert!(e.contains("begins at 2020-09-13 11:46"), "{e}");
    // A regime that replays rows would have its look-back replay the rows after the start.
    let regime = warm_replay("warm-regime", &flat, "warm_start_hours = 0.5").replace(
        "[market.model]\nkind = \"replay\"\n",
        "[market.model]\nkind = \"regime_switching\"\ntransition = [[1.0]]\n\n\
         [[market.model.regimes]]\nkind = \"replay\"\n",
    );
    assert!(regime.contains("regime_switching"), "{regime}");
    let Err(e) = backstop::config::Experiment::parse(
        &regime,
        std::path::Path::new("warm.toml"),
        backstop::config::Overrides::default(),
    ) else {
        panic!("a warm book on a regime that replays rows is refused")
    };
    let e = e.to_string();
    assert!(
        e.contains("traders.warm_start_hours") && e.contains("regimes"),
        "{e}"
    );
}

/// A minute-bar index file from `points` (minute, price) joined linearly: a crash and what
/// follows it.
fn path_file(name: &str, points: &[(u32, f64)]) -> PathBuf {
    let dir = common::temp_dir(name);
    let path = dir.join("index.csv");
    let mut csv = String::from("unix,close\n");
    let last = points.last().unwrap().0;
    for k in 0..=last {
        let seg = points
            .windows(2)
            .find(|w| w[0].0 <= k && k <= w[1].0)
            .unwrap();
        let ((t0, p0), (t1, p1)) = (seg[0], seg[1]);
        let price = p0 + (p1 - p0) * f64::from(k - t0) / f64::from(t1 - t0);
        csv.push_str(&format!("{},{price}\n", 1_600_000_000 + 60 * k));
    }
    std::fs::write(&path, csv).unwrap();
    path
}

/// A venue of 1,000 accounts at 2x to 100x, long-heavy, marked to the index, on a thin book
/// whose basis lasts minutes, liquidating under `rules`; a fund no crash here can empty.
fn crash_venue(path: &std::path::Path, steps: u32, rules: &str) -> String {
    format!(
        r#"
[experiment]
seeds = 60
master_seed = 2020
steps = {steps}
dt_seconds = 60.0

[market]
s0 = 100.0
impact_half_life_minutes = 5.0

[market.mark]
rule = "index"

[market.model]
kind = "replay"
path = {path:?}
price_column = "close"
time_column = "unix"

[market.book]
kind = "linear"
depth_usd = 3e6

[traders]
count = 1000
long_share = 0.8
leverage = {{ kind = "log_uniform", min = 2.0, max = 100.0 }}

[margin]
imr = 0.01
mmr = 0.005

[liquidation]
penalty_rate = 0.005
fund_share = 1.0
{rules}

[fund]
initial = 1e8
on_depletion = "adl"
"#
    )
}

const MARKET_ORDERS: &str = r#"order_limit = "none""#;
const TAKEOVER: &str = r#"order_limit = "bankruptcy"
takeover = "fund"
unwind_step = 0.002"#;

/// A bankruptcy limit on a crash: on every seed no trader's fill leaves a deficit (none goes
/// below its bankruptcy price), the fund inherits what does not fill, the ledger balances
/// after every step (checked by `run`) with that inventory held, and the fund's balance is
/// its cash plus the inventory at the mark.
#[test]
fn a_bankruptcy_limit_leaves_no_bad_debt_and_the_fund_holds_the_rest() {
    let path = path_file(
        "bankruptcy-crash",
        &[(0, 100.0), (5, 100.0), (35, 80.0), (90, 78.0)],
    );
    let held = run(&parse(&crash_venue(&path, 85, TAKEOVER)), 2);
    let market = run(&parse(&crash_venue(&path, 85, MARKET_ORDERS)), 2);
    for (h, m) in held.rows.iter().zip(&market.rows) {
        assert_eq!(h.bad_debt, 0.0, "seed {}", h.seed);
        assert!(h.taken_over_notional > 0.0, "seed {}", h.seed);
        assert!(m.bad_debt > 0.0, "seed {}: market orders go below", m.seed);
        let cash = h.fund_final - h.inventory_end_value;
        assert!(cash > 0.0 && h.inventory_peak_loss >= -h.inventory_end_value.min(0.0));
    }
}

/// Deribit's rules on a crash: orders within a band of the mark, and what does not fill stays
/// with its trader (no takeover), so a deficit is covered while a rest is still open. Every
/// seed leaves bad debt that way, and the recovery rate stays a share: the rest's loss is
/// counted when its deficit is covered, once (issue 34, item 15: -2.34 before, on the
/// Deribit-like replay). The range of every figure of every run is checked by the engine
/// itself (a run outside it fails as a bug), so `run` would fail before these asserts.
#[test]
fn a_rest_that_stays_keeps_the_recovery_rate_a_share() {
    let path = path_file(
        "band-crash",
        &[(0, 100.0), (5, 100.0), (35, 80.0), (90, 78.0)],
    );
    let rules = "order_limit = \"band\"\nband = 0.015\ntakeover = \"none\"";
    let out = run(&parse(&crash_venue(&path, 85, rules)), 2);
    for r in &out.rows {
        assert!(
            r.bad_debt > 0.0,
            "seed {}: the band leaves deficits",
            r.seed
        );
        let recovery = r.recovery_rate.expect("liquidations happened");
        assert!(
            (0.0..=1.0).contains(&recovery),
            "seed {}: recovery rate {recovery}",
            r.seed
        );
    }
}

/// Takeover and unwinding against market sales at once, on common seeds: on a V-shaped day
/// the inventory recovers and the fund loses less; on a day that keeps falling the fund,
/// holding what it inherited, loses more (4 standard errors each way).
#[test]
fn inventory_pays_on_a_v_and_costs_on_a_fall() {
    let v = path_file(
        "inventory-v",
        &[(0, 100.0), (5, 100.0), (15, 88.0), (45, 99.0), (130, 99.0)],
    );
    let fall = path_file(
        "inventory-fall",
        &[(0, 100.0), (5, 100.0), (15, 88.0), (130, 60.0)],
    );
    let loss = |r: &backstop::simulation::RunRow| 1e8 - r.fund_final;
    for (path, holding_pays) in [(v, true), (fall, false)] {
        let market = run(&parse(&crash_venue(&path, 125, MARKET_ORDERS)), 2);
        let held = run(&parse(&crash_venue(&path, 125, TAKEOVER)), 2);
        let (diff, se) = common::paired(&market.rows, &held.rows, loss);
        let gain = if holding_pays { -diff } else { diff };
        assert!(
            gain > 4.0 * se,
            "holding pays on this path: {holding_pays}; fund loss held minus sold {diff:.0} (SE {se:.0})"
        );
    }
}

/// The order rules are checked with the file: each refusal names its field.
#[test]
fn order_rules_are_refused_where_they_mean_nothing() {
    let path = dip_file("order-refusals", 0.006);
    for (rules, field) in [
        (r#"takeover = "fund""#, "liquidation.takeover"),
        ("order_limit = \"band\"\nband = 1.5", "liquidation.band"),
        ("max_order_usd = 1e5\nslice = 0.2", "liquidation.slice"),
        (
            "order_limit = \"bankruptcy\"\ntakeover = \"vault\"",
            "liquidation.vault_capital_usd",
        ),
        (
            "order_limit = \"bankruptcy\"\ntakeover = \"fund\"\nunwind_step = 0.0",
            "liquidation.unwind_step",
        ),
    ] {
        let text = crash_venue(&path, 50, rules);
        let Err(e) = backstop::config::Experiment::parse(
            &text,
            std::path::Path::new("orders.toml"),
            backstop::config::Overrides::default(),
        ) else {
            panic!("{rules} is refused")
        };
        assert!(e.to_string().contains(field), "{rules}: {e}");
    }
    let text = crash_venue(&path, 50, "").replace(
        "on_depletion = \"adl\"",
        "on_depletion = \"adl\"\nadl_price = \"bankruptcy\"",
    );
    let e = backstop::config::Experiment::parse(
        &text,
        std::path::Path::new("orders.toml"),
        backstop::config::Overrides::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("fund.adl_price"), "{e}");
}

/// A fund held in the market's coin (`fund.denomination = "base"`, BitMEX's XBT) on a day that
/// keeps falling, against the same fund in USD on the same seeds: nothing before depletion
/// reads the fund, so every liquidation figure is the same bit for bit; the coin fund's cash
/// falls with the price, and its change in coins is its marked balance at the end, in coins,
/// less F0 / S0. The calibration identity holds in coins: a fund of the median required
/// capital runs dry on exactly the runs whose required capital is above it.
#[test]
fn a_fund_held_in_coin_moves_with_the_price_and_keeps_the_calibration_identity() {
    let fall = path_file(
        "coin-fall",
        &[(0, 100.0), (5, 100.0), (15, 88.0), (130, 60.0)],
    );
    // A fund of 10B USD, which neither runs dry, until it is sized below.
    let usd_text = crash_venue(&fall, 125, TAKEOVER).replace("initial = 1e8", "initial = 1e10");
    let coin_text = usd_text.replace("initial = 1e10", "initial = 1e10\ndenomination = \"base\"");
    let usd = run(&parse(&usd_text), 2);
    let coin = run(&parse(&coin_text), 2);
    // The index at the last step, read off the path: 88 to 60 over minutes 15 to 130.
    let last = 88.0 - 28.0 * 110.0 / 115.0;
    for (u, c) in usd.rows.iter().zip(&coin.rows) {
        assert_eq!(u.liquidation_notional, c.liquidation_notional);
        assert_eq!(u.bad_debt, c.bad_debt);
        assert_eq!(u.taken_over_notional, c.taken_over_notional);
        assert_eq!(u.fund_coin_change, None);
        assert_eq!(u.inventory_peak_loss_coin, None);
        let change = c
            .fund_coin_change
            .expect("a fund in coin reports its change");
        let in_coins = c.fund_final / last - 1e10 / 100.0;
        assert!(
            (change - in_coins).abs() < 1e-9 * 1e8,
            "seed {}: {change} coins against {in_coins}",
            c.seed
        );
        assert!(c.fund_final < u.fund_final, "seed {}", c.seed);
        // Its inventory's peak loss in coins, each moment's loss at that moment's index
        // (between 60 and 100 here), lies between the USD peak at 100 and at 60.
        let peak = c
            .inventory_peak_loss_coin
            .expect("a fund in coin reports it");
        let usd_peak = u.inventory_peak_loss;
        assert!(
            usd_peak > 0.0 && peak >= usd_peak / 100.0 * (1.0 - 1e-9) && peak <= usd_peak / 60.0,
            "seed {}: {peak} coins against {usd_peak} USD",
            c.seed
        );
    }
    let mut needs: Vec<f64> = coin.rows.iter().map(|r| r.required_capital).collect();
    needs.sort_by(f64::total_cmp);
    let median = needs[needs.len() / 2];
    assert!(median > 0.0);
    let sized = coin_text.replace("initial = 1e10", &format!("initial = {median:?}"));
    let sized = run(&parse(&sized), 2);
    let mut depleted = 0;
    for (r, s) in coin.rows.iter().zip(&sized.rows) {
        assert_eq!(s.depleted, r.required_capital > median, "seed {}", r.seed);
        if !s.depleted {
            // Until depletion nothing reads the fund (after it, ADL replaces the takeover).
            assert_eq!(s.required_capital, r.required_capital, "seed {}", r.seed);
        }
        depleted += usize::from(s.depleted);
    }
    assert!(depleted > 0 && depleted < sized.rows.len());
}

/// A fund in coin is refused where it means nothing, naming the field: several markets (several
/// coins), and a record's change in coins beside a fund held in USD.
#[test]
fn a_fund_in_coin_is_refused_where_it_means_nothing() {
    let path = dip_file("coin-refusals", 0.006);
    let base = crash_venue(&path, 50, "");
    let two = base.replace("initial = 1e8", "initial = 1e8\ndenomination = \"base\"")
        + "\n[markets.ETH]\ns0 = 2000.0\ntraders = 100\n[markets.ETH.model]\nkind = \"gbm\"\nvol = 0.8\n";
    let record = base.replace(
        "dt_seconds = 60.0",
        "dt_seconds = 60.0\n\n[experiment.record]\nsource = \"a test\"\nfund_change_coin = -2606.0",
    );
    for (text, field) in [
        (two, "fund.denomination"),
        (record, "experiment.record.fund_change_coin"),
    ] {
        let e = backstop::config::Experiment::parse(
            &text,
            std::path::Path::new("coin.toml"),
            backstop::config::Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
}
