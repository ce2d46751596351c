//! A lending market's section checked into what a run needs (MODEL.md section 14): its
//! protocol terms and the borrowers' population.

use super::file::{
    DefendActionSpec, DeriskOrdersSpec, DistributionSpec, LendingSection, LendingStyleSpec,
    OracleSourceSpec,
};
use crate::agents::PositiveDistribution;
use crate::params::{ParamError, ParamResult};
use crate::protocol::lending::MakerAuctions;
use crate::protocol::lending::aave::AaveRules;
use crate::protocol::lending::auction::{AuctionRules, AuctionTerms};
use crate::protocol::lending::borrowers::{
    BorrowerBehavior, DefendAction, DefendRule, DeriskOrders, DeriskRule, LoopRule,
};
use crate::protocol::lending::comet::CometRules;
use crate::protocol::lending::oracle::PushOracle;
use crate::protocol::lending::{LendingStyle, LendingTerms, Loan, OracleSource};
use crate::rng::SimRng;

/// A lending market of a scenario, validated.
#[derive(Clone, Debug)]
pub struct LendingScenario {
    pub(crate) terms: LendingTerms,
    pub(crate) borrowers: u32,
    collateral_usd: PositiveDistribution,
    initial_ltv: PositiveDistribution,
    ltv: f64,
    /// The asset the loans borrow, which names the stake in reports.
    debt_asset: Option<String>,
}

impl LendingScenario {
    /// Checks `[path]` (a market's `lending` table).
    pub fn from_section(
        l: &LendingSection,
        path: &str,
        distribution: impl Fn(&DistributionSpec) -> ParamResult<PositiveDistribution>,
    ) -> ParamResult<Self> {
        let within = |e: ParamError| e.within(path);
        if l.borrowers == 0 || l.borrowers > u32::MAX as u64 {
            return Err(ParamError::new(
                format!("{path}.borrowers"),
                format!("must be between 1 and {}, got {}", u32::MAX, l.borrowers),
            ));
        }
        let style = match l.style {
            LendingStyleSpec::Aave => LendingStyle::Aave(
                AaveRules::new(l.liquidation_threshold, l.bonus, l.protocol_fee).map_err(within)?,
            ),
            LendingStyleSpec::Auction => auction_style(l, path)?,
            LendingStyleSpec::Comet => comet_style(l, path)?,
        };
        only_its_style_tables(l, path)?;
        // Aave's `validateReserveConfiguration`: the borrowing limit sits below the
        // threshold, or a loan could open liquidatable.
        if !(l.ltv > 0.0 && l.ltv <= l.liquidation_threshold) {
            return Err(ParamError::new(
                format!("{path}.ltv"),
                format!(
                    "must be in (0, liquidation_threshold = {}], got {}",
                    l.liquidation_threshold, l.ltv
                ),
            ));
        }
        let o = &l.oracle;
        let oracle = PushOracle::new(o.deviation, o.heartbeat_seconds, o.lag_seconds)
            .map_err(|e| e.within(&format!("{path}.oracle")))?;
        let terms = LendingTerms::new(style, oracle, l.borrow_apr, l.deficit_offset_usd)
            .map_err(within)?
            .reading(match o.reads {
                OracleSourceSpec::Market => OracleSource::Market,
                OracleSourceSpec::Index => OracleSource::Index,
            });
        if l.borrow_apr > 10.0 {
            return Err(ParamError::new(
                format!("{path}.borrow_apr"),
                format!("is a rate per year (0.05 for 5%), got {}", l.borrow_apr),
            ));
        }
        let terms = terms.with_behavior(behavior(l, path)?);
        Ok(Self {
            terms,
            borrowers: l.borrowers as u32,
            collateral_usd: distribution(&l.collateral_usd)
                .map_err(|e| e.within(&format!("{path}.collateral_usd")))?,
            initial_ltv: distribution(&l.initial_ltv)
                .map_err(|e| e.within(&format!("{path}.initial_ltv")))?,
            ltv: l.ltv,
            debt_asset: debt_asset(l, path)?,
        })
    }

    /// Whether the run reads the fund's balance before it is depleted: Comet's store front
    /// sells only while the reserves are below a finite target, so where the reserves start
    /// decides when it opens.
    pub fn store_front_reads_the_fund(&self) -> bool {
        matches!(self.terms.style(), LendingStyle::Comet { rules, .. } if rules.target_reserves().is_finite())
    }

    /// The asset the loans borrow (`USDC`), if the file names it.
    pub fn debt_asset(&self) -> Option<&str> {
        self.debt_asset.as_deref()
    }

    pub fn terms(&self) -> &LendingTerms {
        &self.terms
    }

    pub fn borrowers(&self) -> u32 {
        self.borrowers
    }

    /// The style's name as experiment files write it.
    pub fn style_name(&self) -> &'static str {
        match self.terms.style() {
            LendingStyle::Aave(_) => "aave",
            LendingStyle::Auction(_) => "auction",
            LendingStyle::Comet { .. } => "comet",
        }
    }

    /// One borrower at t = 0 with the index at `s0`: collateral and initial LTV drawn, the
    /// LTV capped at the market's limit.
    pub fn draw(&self, rng: &mut SimRng, s0: f64) -> Loan {
        let value = self.collateral_usd.sample(rng);
        let ltv = self.initial_ltv.sample(rng).min(self.ltv);
        Loan {
            collateral: value / s0,
            debt: value * ltv,
        }
    }
}

/// `debt_asset`: a ticker, as reports print it.
fn debt_asset(l: &LendingSection, path: &str) -> ParamResult<Option<String>> {
    let Some(a) = &l.debt_asset else {
        return Ok(None);
    };
    let ticker = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    if a.is_empty() || a.len() > 16 || !a.chars().all(ticker) {
        return Err(ParamError::new(
            format!("{path}.debt_asset"),
            format!("is a ticker (letters, digits, '.', '-'; 1 to 16 of them), got {a:?}"),
        ));
    }
    Ok(Some(a.clone()))
}

/// `style = "comet"`: the `[lending.comet]` table checked into Compound's rules.
/// The tables and fields of one style are refused under another. Auctions charge `chop` and
/// Comet the liquidation factor: a bonus or a fee set beside them would be silently ignored.
fn only_its_style_tables(l: &LendingSection, path: &str) -> ParamResult<()> {
    if l.style != LendingStyleSpec::Auction && l.auction.is_some() {
        return Err(ParamError::new(
            format!("{path}.auction"),
            "is for style = \"auction\"",
        ));
    }
    if l.style != LendingStyleSpec::Comet && l.comet.is_some() {
        return Err(ParamError::new(
            format!("{path}.comet"),
            "is for style = \"comet\"",
        ));
    }
    if l.style != LendingStyleSpec::Aave {
        for (field, value) in [("bonus", l.bonus), ("protocol_fee", l.protocol_fee)] {
            if value != 0.0 {
                return Err(ParamError::new(
                    format!("{path}.{field}"),
                    format!("is for style = \"aave\", got {value}"),
                ));
            }
        }
    }
    Ok(())
}

fn comet_style(l: &LendingSection, path: &str) -> ParamResult<LendingStyle> {
    let at = format!("{path}.comet");
    let c = l.comet.as_ref().ok_or_else(|| {
        ParamError::new(
            &at,
            "style = \"comet\" needs a [lending.comet] table (liquidation_factor, \
             store_front_factor, target_reserves_usd)",
        )
    })?;
    let rules = CometRules::new(c.liquidation_factor, c.store_front_factor)
        .and_then(|r| r.with_target_reserves(c.target_reserves_usd))
        .map_err(|e| e.within(&at))?;
    let lt = l.liquidation_threshold;
    if !(lt > 0.0 && lt < 1.0) {
        return Err(ParamError::new(
            format!("{path}.liquidation_threshold"),
            format!("is the liquidate collateral factor, in (0, 1), got {lt}"),
        ));
    }
    Ok(LendingStyle::Comet {
        rules,
        liquidation_threshold: l.liquidation_threshold,
    })
}

/// `style = "auction"`: the `[lending.auction]` table checked into Maker's rules.
fn auction_style(l: &LendingSection, path: &str) -> ParamResult<LendingStyle> {
    let at = format!("{path}.auction");
    let a = l.auction.as_ref().ok_or_else(|| {
        ParamError::new(
            &at,
            "style = \"auction\" needs a [lending.auction] table (buf, cut, step_seconds, \
             tail_seconds, cusp, chop, tip_usd, chip, hole_usd)",
        )
    })?;
    let rules = AuctionRules::new(AuctionTerms {
        buf: a.buf,
        cut: a.cut,
        step_seconds: a.step_seconds,
        tail_seconds: a.tail_seconds,
        cusp: a.cusp,
        chop: a.chop,
        dust: a.dust_usd,
        tip: a.tip_usd,
        chip: a.chip,
    })
    .map_err(|mut e| {
        // The rules name their fields as `clip.sol` does; the file says `tip_usd`.
        if e.field == "tip" {
            e.field = "tip_usd".into();
        }
        if e.field == "dust" {
            e.field = "dust_usd".into();
        }
        e.within(&at)
    })?;
    let style = MakerAuctions::new(rules, l.liquidation_threshold, a.hole_usd).map_err(|e| {
        if e.field == "hole_usd" {
            e.within(&at)
        } else {
            e.within(path)
        }
    })?;
    Ok(LendingStyle::Auction(style))
}

/// The defenders' and loopers' rules of `[path]`, checked (none: everyone static).
fn behavior(l: &LendingSection, path: &str) -> ParamResult<BorrowerBehavior> {
    let defend = l
        .defenders
        .as_ref()
        .map(|d| {
            let action = match d.action {
                DefendActionSpec::Repay => DefendAction::Repay,
                DefendActionSpec::TopUp => DefendAction::TopUp,
            };
            DefendRule::new(d.share, d.below_hf, d.to_hf, d.reserve).map(|r| r.doing(action))
        })
        .transpose()
        .map_err(|e| e.within(&format!("{path}.defenders")))?;
    let looping = l
        .loopers
        .as_ref()
        .map(|o| LoopRule::new(o.share, o.rebalance))
        .transpose()
        .map_err(|e| e.within(&format!("{path}.loopers")))?;
    let derisk = l
        .derisk
        .as_ref()
        .map(|r| {
            let orders = match r.orders {
                DeriskOrdersSpec::Separate => DeriskOrders::Separate,
                DeriskOrdersSpec::Pooled => DeriskOrders::Pooled,
            };
            DeriskRule::new(
                r.share,
                r.window_minutes * 60.0,
                r.threshold_usd,
                r.sell_share,
            )
            .map(|rule| rule.meeting_the_book(orders))
        })
        .transpose()
        .map_err(|e| e.within(&format!("{path}.derisk")))?;
    BorrowerBehavior::new(defend, looping, derisk).map_err(|e| e.within(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(style: &str, extra: &str) -> LendingSection {
        toml::from_str(&format!(
            "style = \"{style}\"\nborrowers = 10\n\
             collateral_usd = {{ kind = \"fixed\", value = 1e4 }}\n\
             initial_ltv = {{ kind = \"fixed\", value = 0.5 }}\n\
             ltv = 0.8\nliquidation_threshold = 0.85\n{extra}\
             [oracle]\ndeviation = 0.005\nheartbeat_seconds = 3600.0\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_style_takes_only_its_own_tables_and_fields() {
        assert!(only_its_style_tables(&section("aave", "bonus = 0.05\n"), "m").is_ok());
        let e = only_its_style_tables(&section("comet", "bonus = 0.05\n"), "m").unwrap_err();
        assert_eq!(e.field, "m.bonus");
        let auction = "[comet]\nliquidation_factor = 0.95\nstore_front_factor = 0.5\ntarget_reserves_usd = 5e6\n";
        let e = only_its_style_tables(&section("aave", auction), "m").unwrap_err();
        assert_eq!(e.field, "m.comet");
    }

    #[test]
    fn the_debt_asset_is_a_ticker() {
        let ok = section("aave", "debt_asset = \"USDC\"\n");
        assert_eq!(debt_asset(&ok, "m").unwrap().as_deref(), Some("USDC"));
        assert_eq!(debt_asset(&section("aave", ""), "m").unwrap(), None);
        for bad in ["", "US DC", "a-very-long-ticker-name"] {
            let e = debt_asset(&section("aave", &format!("debt_asset = {bad:?}\n")), "m");
            assert_eq!(e.unwrap_err().field, "m.debt_asset", "{bad:?}");
        }
    }
}
