//! What drives the fund's size (issue 34, item 3): the scenario as written, and beside it
//! variants that each move one assumption, all run on the same seeds (common random numbers:
//! every stream is keyed by seed index and component, never by the variant, MODEL.md section
//! 11), each with a fund no deficit exhausts so that required capital gives the need.
//!
//! The assumptions moved are those that dominate fund sizes and that a committee cannot read
//! off a venue's documentation to the digit: the book's depth (halved and doubled), the mark
//! rule (the book's own price, and the index), how an order's impact is priced (its own
//! notional, or the step's flow), a lending market's oracle (the index, or its own market),
//! and the price model (without or with volatility clustering and fat tails, at the same
//! long-run volatility). A driver that does not apply to the file (a book without impact, a
//! replayed price path, no lending market) is left out, and the list says why.

use std::path::Path;

use super::{CALIBRATION_FUND, ConfigError, Experiment, Overrides};

/// One variant of the scenario as written: which assumption it moves, to what, and the
/// experiment that runs it (one cell, the file's seeds).
pub struct DriverVariant {
    /// The assumption (`book depth`), empty for the scenario as written.
    pub driver: &'static str,
    /// What it is set to (`halved`, `index`).
    pub variant: String,
    pub experiment: Experiment,
}

/// The scenario as written and every variant that applies, in a fixed order, and the
/// drivers left out with the reason.
pub struct Drivers {
    pub variants: Vec<DriverVariant>,
    pub left_out: Vec<(&'static str, String)>,
}

type Table = toml::Table;

/// An edit of the resolved file for one variant; `None` when it does not apply (the reason).
type Edit = Result<Table, String>;

impl Drivers {
    /// Builds the variants of `exp`'s file as written (its grid dropped, its fund made
    /// inexhaustible). Refused where the fund's size shapes the run before depletion (a cap,
    /// Comet's target reserves): there required capital is not the need.
    pub fn of(exp: &Experiment, path: &Path, seeds: Option<u64>) -> Result<Self, ConfigError> {
        let err = |field: Option<&str>, message: String| ConfigError {
            file: path.to_path_buf(),
            field: field.map(String::from),
            message,
        };
        let head = exp.headline_cell();
        if exp.cells[head]
            .scenario
            .fund_shapes_the_run_before_depletion()
        {
            return Err(err(
                Some("fund"),
                "the fund's size shapes the run before it runs dry (a fund cap, or Comet's target reserves), so required capital is not the fund's need and drivers cannot read it; run `backstop calibrate` on each variant instead".into(),
            ));
        }
        let mut base: Table = toml::from_str(&exp.to_resolved_toml())
            .map_err(|e| err(None, format!("cannot re-read the resolved experiment: {e}")))?;
        base.remove("grid");
        if let Some(toml::Value::Table(fund)) = base.get_mut("fund") {
            fund.insert("initial".into(), toml::Value::Float(CALIBRATION_FUND));
        }
        let overrides = Overrides {
            seeds,
            master_seed: None,
        };
        let build = |table: &Table| -> Result<Experiment, ConfigError> {
            let text = toml::to_string(table).map_err(|e| err(None, e.to_string()))?;
            Experiment::parse(&text, path, overrides)
        };
        let mut variants = vec![DriverVariant {
            driver: "",
            variant: "as written".into(),
            experiment: build(&base)?,
        }];
        let mut left_out: Vec<(&'static str, String)> = Vec::new();
        for (driver, variant, edit) in edits(&base) {
            match edit {
                Ok(table) => {
                    let experiment = build(&table).map_err(|e| ConfigError {
                        message: format!("the `{driver}: {variant}` variant: {}", e.message),
                        ..e
                    })?;
                    variants.push(DriverVariant {
                        driver,
                        variant,
                        experiment,
                    })
                }
                Err(why) if !left_out.iter().any(|(d, _)| *d == driver) => {
                    left_out.push((driver, why))
                }
                Err(_) => {}
            }
        }
        // A driver is left out only when none of its variants applies (the file's own mark
        // rule is no variant, but the other rule still is).
        left_out.retain(|(d, _)| !variants.iter().any(|v| v.driver == *d));
        Ok(Self { variants, left_out })
    }
}

/// Every variant's edit of the resolved file, in the order the report lists them.
fn edits(base: &Table) -> Vec<(&'static str, String, Edit)> {
    let mut out = vec![
        (
            "book depth",
            "halved".to_string(),
            each_market(base, |m| scale_depth(m, 0.5)),
        ),
        (
            "book depth",
            "doubled".to_string(),
            each_market(base, |m| scale_depth(m, 2.0)),
        ),
    ];
    for rule in ["book", "index"] {
        out.push((
            "mark rule",
            rule.to_string(),
            each_market(base, |m| set_mark_rule(m, rule)),
        ));
    }
    for on in ["order", "step_flow"] {
        out.push((
            "impact priced on",
            on.to_string(),
            each_market(base, |m| set_impact_on(m, on)),
        ));
    }
    for reads in ["index", "market"] {
        out.push((
            "oracle reads",
            reads.to_string(),
            each_market(base, |m| set_oracle(m, reads)),
        ));
    }
    let (label, edit) = other_model(base);
    out.push(("price model", label, edit));
    out
}

/// Applies `edit` to `[market]` and every `[markets.NAME]`; the variant applies when it
/// changed at least one market, and its reason to be left out is the first market's.
fn each_market(base: &Table, edit: impl Fn(&mut Table) -> Result<(), String>) -> Edit {
    let mut table = base.clone();
    let mut changed = false;
    let mut why = None;
    let mut apply = |m: &mut Table| match edit(m) {
        Ok(()) => changed = true,
        Err(e) => {
            why.get_or_insert(e);
        }
    };
    if let Some(toml::Value::Table(m)) = table.get_mut("market") {
        apply(m);
    }
    // A `[markets.NAME]` table holds only what the file wrote; its defaults are written in
    // first, so that a market that leaves its book to the default has it halved too.
    let defaults = toml::Table::try_from(super::file::MarketSection::default()).unwrap_or_default();
    if let Some(toml::Value::Table(markets)) = table.get_mut("markets") {
        for (_, m) in markets.iter_mut() {
            if let toml::Value::Table(m) = m {
                for (key, value) in &defaults {
                    if key != "name" && !m.contains_key(key) {
                        m.insert(key.clone(), value.clone());
                    }
                }
                apply(m);
            }
        }
    }
    if changed {
        Ok(table)
    } else {
        Err(why.unwrap_or_else(|| "no market to change".into()))
    }
}

fn sub<'a>(m: &'a mut Table, key: &str) -> Option<&'a mut Table> {
    match m.get_mut(key) {
        Some(toml::Value::Table(t)) => Some(t),
        _ => None,
    }
}

fn text<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(|v| v.as_str())
}

fn scale(t: &mut Table, key: &str, by: f64) -> Result<(), String> {
    let x = t
        .get(key)
        .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
        .ok_or_else(|| format!("no `{key}` to scale"))?;
    t.insert(key.into(), toml::Value::Float(x * by));
    Ok(())
}

/// The notional that moves the price 1%: a linear book's `depth_usd`, a square-root book's
/// `daily_volume_usd` (that notional grows with it one for one).
fn scale_depth(m: &mut Table, by: f64) -> Result<(), String> {
    let book = sub(m, "book").ok_or("the book is not written out")?;
    match text(book, "kind") {
        Some("linear") => scale(book, "depth_usd", by),
        Some("sqrt") => scale(book, "daily_volume_usd", by),
        _ => Err("the book has no impact (`kind = \"none\"`)".into()),
    }
}

fn is_lending(m: &Table) -> bool {
    m.contains_key("lending")
}

fn set_mark_rule(m: &mut Table, rule: &str) -> Result<(), String> {
    if is_lending(m) {
        return Err("a lending market has no mark (its oracle is a driver of its own)".into());
    }
    let mark = sub(m, "mark").ok_or("the mark is not written out")?;
    if text(mark, "rule") == Some(rule) {
        return Err(format!("the file's own rule is `{rule}`"));
    }
    mark.insert("rule".into(), rule.into());
    Ok(())
}

fn set_impact_on(m: &mut Table, on: &str) -> Result<(), String> {
    if text(m, "impact_on") == Some(on) {
        return Err(format!("the file's own is `{on}`"));
    }
    m.insert("impact_on".into(), on.into());
    Ok(())
}

fn set_oracle(m: &mut Table, reads: &str) -> Result<(), String> {
    let oracle = sub(m, "lending")
        .and_then(|l| sub(l, "oracle"))
        .ok_or("no lending market")?;
    if text(oracle, "reads") == Some(reads) {
        return Err(format!("the file's own oracle reads the {reads}"));
    }
    oracle.insert("reads".into(), reads.into());
    Ok(())
}

/// The other family of price model at the same long-run volatility: GARCH, Heston or Merton
/// become GBM (no clustering, normal shocks); GBM becomes R1's GARCH-t (alpha 0.08 and beta
/// 0.90 per step, Student-t shocks with 4 degrees of freedom).
fn other_model(base: &Table) -> (String, Edit) {
    let kind = base
        .get("market")
        .and_then(|m| m.get("model"))
        .and_then(|m| m.get("kind"))
        .and_then(|k| k.as_str())
        .unwrap_or("garch")
        .to_string();
    let label = if kind == "gbm" { "GARCH-t" } else { "GBM" };
    (label.into(), each_market(base, swap_model))
}

fn number(t: &Table, key: &str) -> Option<f64> {
    t.get(key)
        .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
}

fn swap_model(m: &mut Table) -> Result<(), String> {
    let model = sub(m, "model").ok_or("the model is not written out")?;
    let gbm = |vol: f64| {
        let mut t = Table::new();
        t.insert("kind".into(), "gbm".into());
        t.insert("vol".into(), toml::Value::Float(vol));
        t
    };
    let swapped = match text(model, "kind") {
        Some("garch") => gbm(number(model, "long_run_vol").ok_or("no long-run vol")?),
        Some("heston") => gbm(number(model, "long_run_vol").ok_or("no long-run vol")?),
        // Merton's total variance: the diffusion's plus the jumps' per year.
        Some("merton") => {
            let vol = number(model, "vol").unwrap_or(0.0);
            let lambda = number(model, "jump_intensity").unwrap_or(0.0);
            let (mu, sd) = (
                number(model, "jump_mean").unwrap_or(0.0),
                number(model, "jump_sd").unwrap_or(0.0),
            );
            gbm((vol * vol + lambda * (mu * mu + sd * sd)).sqrt())
        }
        Some("gbm") => {
            let mut t = Table::new();
            t.insert("kind".into(), "garch".into());
            t.insert(
                "long_run_vol".into(),
                toml::Value::Float(number(model, "vol").ok_or("no vol")?),
            );
            t.insert("alpha".into(), toml::Value::Float(0.08));
            t.insert("beta".into(), toml::Value::Float(0.90));
            let mut shocks = Table::new();
            shocks.insert("kind".into(), "student_t".into());
            shocks.insert("nu".into(), toml::Value::Float(4.0));
            t.insert("shocks".into(), toml::Value::Table(shocks));
            t
        }
        Some(other) => {
            return Err(format!(
                "the price model is `{other}`, with no single alternative at the same volatility"
            ));
        }
        None => return Err("the model names no kind".into()),
    };
    *model = swapped;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    const PERP: &str = r#"
[market]
impact_on = "order"
[market.mark]
rule = "median"
[market.book]
kind = "linear"
depth_usd = 2e7
[market.model]
kind = "garch"
long_run_vol = 0.8
alpha = 0.08
beta = 0.9
[market.model.shocks]
kind = "student_t"
nu = 4.0
"#;

    fn variant<'a>(all: &'a [(&'static str, String, Edit)], d: &str, v: &str) -> &'a Edit {
        &all.iter().find(|(a, b, _)| *a == d && b == v).unwrap().2
    }

    #[test]
    fn each_variant_moves_one_field_and_only_it() {
        let base = table(PERP);
        let all = edits(&base);
        let halved = variant(&all, "book depth", "halved").as_ref().unwrap();
        assert_eq!(halved["market"]["book"]["depth_usd"].as_float(), Some(1e7));
        assert_eq!(halved["market"]["mark"], base["market"]["mark"]);
        let index = variant(&all, "mark rule", "index").as_ref().unwrap();
        assert_eq!(index["market"]["mark"]["rule"].as_str(), Some("index"));
        assert_eq!(index["market"]["book"], base["market"]["book"]);
        assert!(
            variant(&all, "impact priced on", "order").is_err(),
            "the file's own"
        );
        let flow = variant(&all, "impact priced on", "step_flow")
            .as_ref()
            .unwrap();
        assert_eq!(flow["market"]["impact_on"].as_str(), Some("step_flow"));
        let gbm = variant(&all, "price model", "GBM").as_ref().unwrap();
        assert_eq!(gbm["market"]["model"]["kind"].as_str(), Some("gbm"));
        assert_eq!(gbm["market"]["model"]["vol"].as_float(), Some(0.8));
        // No lending market: the oracle has no variant.
        assert!(variant(&all, "oracle reads", "index").is_err());
    }

    #[test]
    fn a_further_market_that_leaves_its_book_to_the_default_moves_with_the_first() {
        let base = table(&format!("{PERP}\n[markets.ETH]\ns0 = 2000.0\n"));
        let all = edits(&base);
        let halved = variant(&all, "book depth", "halved").as_ref().unwrap();
        assert_eq!(halved["market"]["book"]["depth_usd"].as_float(), Some(1e7));
        let default = match super::super::file::BookSpec::default() {
            super::super::file::BookSpec::Linear { depth_usd } => depth_usd,
            _ => unreachable!("the default book is linear"),
        };
        assert_eq!(
            halved["markets"]["ETH"]["book"]["depth_usd"].as_float(),
            Some(default * 0.5)
        );
        assert_eq!(halved["markets"]["ETH"]["s0"].as_float(), Some(2000.0));
    }

    #[test]
    fn a_gbm_becomes_r1s_garch_t_at_its_vol_and_merton_keeps_its_variance() {
        let gbm = table("[market.model]\nkind = \"gbm\"\nvol = 0.6\n");
        let (label, edit) = other_model(&gbm);
        assert_eq!(label, "GARCH-t");
        let m = &edit.unwrap()["market"]["model"];
        assert_eq!(m["long_run_vol"].as_float(), Some(0.6));
        assert_eq!(m["shocks"]["nu"].as_float(), Some(4.0));
        let merton = table(
            "[market.model]\nkind = \"merton\"\nvol = 0.3\njump_intensity = 4.0\njump_mean = -0.1\njump_sd = 0.2\n",
        );
        let m = &other_model(&merton).1.unwrap()["market"]["model"];
        let want = (0.09f64 + 4.0 * (0.01 + 0.04)).sqrt();
        assert!((m["vol"].as_float().unwrap() - want).abs() < 1e-15);
        let replay = table("[market.model]\nkind = \"replay\"\npath = \"x.csv\"\n");
        assert!(other_model(&replay).1.unwrap_err().contains("replay"));
    }

    #[test]
    fn a_lending_market_moves_its_oracle_not_a_mark() {
        let lending =
            table("[market.mark]\nrule = \"book\"\n[market.lending.oracle]\nreads = \"index\"\n");
        let all = edits(&lending);
        assert!(variant(&all, "mark rule", "index").is_err());
        assert!(
            variant(&all, "oracle reads", "index").is_err(),
            "the file's own"
        );
        let market = variant(&all, "oracle reads", "market").as_ref().unwrap();
        assert_eq!(
            market["market"]["lending"]["oracle"]["reads"].as_str(),
            Some("market")
        );
    }
}
