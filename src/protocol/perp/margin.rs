//! Margin rules (MODEL.md section 3): opening needs `E >= imr N` afterwards; a position is
//! liquidatable when `E < mmr N`.
//!
//! Venues raise both rates with the position's size (BitMEX's risk limits, Binance's leverage
//! brackets, Deribit's per-BTC add-on). A schedule of tiers does that here in Binance's form:
//! the maintenance margin is marginal, `mmr_j` on the part of the notional above tier `j`'s
//! floor, so that it is continuous in the notional and equals `mmr_j N - a_j` inside tier `j`
//! (Binance's "maintenance amount" `a_j`); the initial margin is the whole position's tier
//! rate, `imr_j N` (its leverage cap). A continuous requirement keeps the liquidation price
//! unique. BitMEX applied each step to the whole position instead, which is higher for a
//! position just above a step; the presets say so.

use std::sync::Arc;

use crate::params::{ParamError, ParamResult, positive};

/// At most this many tiers above the base one (Binance's BTCUSDT had ten brackets).
pub const MAX_TIERS: usize = 15;

/// One tier: from `from_notional` USD of notional up, initial margin `imr` on the whole
/// position and maintenance margin `mmr` on the part above `from_notional`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MarginTier {
    pub from_notional: f64,
    pub imr: f64,
    pub mmr: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MarginParams {
    imr: f64,
    mmr: f64,
    /// Tiers above the base one, shared by every copy of the rules (a market holds its rules
    /// by value: one pointer keeps them off its hot struct).
    schedule: Option<Arc<Schedule>>,
}

/// Tiers with floors strictly increasing; `amount[j]` is tier `j`'s maintenance amount and
/// `at_floor[j]` the maintenance margin at tier `j`'s floor (what the liquidation price's
/// search reads at every floor: kept, not recomputed, so a search costs one test a tier).
#[derive(Debug, PartialEq)]
struct Schedule {
    tiers: Vec<MarginTier>,
    amount: Vec<f64>,
    at_floor: Vec<f64>,
}

impl MarginParams {
    /// `0 < mmr < imr <= 1`.
    pub fn new(imr: f64, mmr: f64) -> ParamResult<Self> {
        positive("imr", imr)?;
        positive("mmr", mmr)?;
        if imr > 1.0 {
            return Err(ParamError::new("imr", format!("must be <= 1, got {imr}")));
        }
        if mmr >= imr {
            return Err(ParamError::new(
                "mmr",
                format!(
                    "must be < imr (maintenance below initial margin), got mmr {mmr} >= imr {imr}"
                ),
            ));
        }
        Ok(Self {
            imr,
            mmr,
            schedule: None,
        })
    }

    /// Adds tiers above the base rates. Floors strictly increase; rates never fall from one
    /// tier to the next; a tier's marginal `mmr` is below 1 (so that the equity less the
    /// maintenance margin is monotone in the price and the liquidation price unique) and its
    /// `imr` at most 1; and no position can open liquidatable: inside every tier the
    /// maintenance margin stays below the initial margin, `MM(N) < imr_j N` up to the next
    /// floor (or for ever, in the top tier).
    pub fn with_tiers(mut self, tiers: &[MarginTier]) -> ParamResult<Self> {
        if tiers.len() > MAX_TIERS {
            return Err(ParamError::new(
                "tiers",
                format!("at most {MAX_TIERS} tiers, got {}", tiers.len()),
            ));
        }
        let (mut floor, mut imr, mut mmr, mut amount) = (0.0, self.imr, self.mmr, 0.0);
        let mut amounts = Vec::with_capacity(tiers.len());
        for (j, t) in tiers.iter().enumerate() {
            let field = |name: &str| format!("tiers[{j}].{name}");
            if !(t.from_notional.is_finite() && t.from_notional > floor) {
                return Err(ParamError::new(
                    field("from_usd"),
                    format!(
                        "must be finite and above the floor of the tier below ({floor}), got {}",
                        t.from_notional
                    ),
                ));
            }
            positive(&field("imr"), t.imr)?;
            positive(&field("mmr"), t.mmr)?;
            if t.imr > 1.0 || t.mmr >= 1.0 {
                return Err(ParamError::new(
                    field(if t.imr > 1.0 { "imr" } else { "mmr" }),
                    format!(
                        "imr must be <= 1 and mmr < 1, got imr {} mmr {}",
                        t.imr, t.mmr
                    ),
                ));
            }
            if t.imr < imr || t.mmr < mmr {
                return Err(ParamError::new(
                    field(if t.imr < imr { "imr" } else { "mmr" }),
                    format!(
                        "must not fall below the tier below's (imr {imr}, mmr {mmr}): margin \
                         rises with size, got imr {} mmr {}",
                        t.imr, t.mmr
                    ),
                ));
            }
            // The tier below ends at this floor: its maintenance there must be below its
            // initial margin.
            let below = mmr * t.from_notional - amount;
            if below >= imr * t.from_notional {
                return Err(ParamError::new(
                    field("from_usd"),
                    format!(
                        "the tier below reaches a maintenance margin of {:.4}% at {} USD, not \
                         below its initial margin {imr}: a position could open liquidatable",
                        100.0 * below / t.from_notional,
                        t.from_notional
                    ),
                ));
            }
            // Continuity at the floor: mmr_j F - a_j = mmr_{j-1} F - a_{j-1}.
            amount += (t.mmr - mmr) * t.from_notional;
            amounts.push(amount);
            (floor, imr, mmr) = (t.from_notional, t.imr, t.mmr);
        }
        if mmr >= imr {
            return Err(ParamError::new(
                format!("tiers[{}].mmr", tiers.len().saturating_sub(1)),
                format!(
                    "must be below the top tier's imr ({imr}), got {mmr}: the top tier has no \
                     ceiling, so its maintenance margin would reach its initial margin"
                ),
            ));
        }
        // A floor lies in its own tier: `maintenance` there is `mmr_j F_j - a_j`, the same
        // expression, so the kept values are its bits.
        let at_floor = tiers
            .iter()
            .zip(&amounts)
            .map(|(t, a)| t.mmr * t.from_notional - a)
            .collect();
        self.schedule = (!tiers.is_empty()).then(|| {
            Arc::new(Schedule {
                tiers: tiers.to_vec(),
                amount: amounts,
                at_floor,
            })
        });
        Ok(self)
    }

    /// The base tier's initial margin rate.
    pub fn imr(&self) -> f64 {
        self.imr
    }

    /// The base tier's maintenance margin rate.
    pub fn mmr(&self) -> f64 {
        self.mmr
    }

    pub fn tiers(&self) -> &[MarginTier] {
        self.schedule.as_ref().map_or(&[], |s| &s.tiers)
    }

    /// Tier `j`'s maintenance amount.
    fn amount(&self, j: usize) -> f64 {
        self.schedule.as_ref().map_or(0.0, |s| s.amount[j])
    }

    /// Highest leverage any opening trade may take: the base tier's `1 / imr`.
    pub fn max_leverage(&self) -> f64 {
        1.0 / self.imr
    }

    /// The tier a notional falls in: `None` for the base one.
    #[inline]
    fn tier_of(&self, notional: f64) -> Option<usize> {
        self.schedule
            .as_ref()?
            .tiers
            .iter()
            .rposition(|t| notional >= t.from_notional)
    }

    /// The initial margin a position of `notional` needs (USD): its tier's rate on all of it.
    #[inline]
    pub fn initial(&self, notional: f64) -> f64 {
        match self.tier_of(notional) {
            None => self.imr * notional,
            Some(j) => self.tiers()[j].imr * notional,
        }
    }

    /// The maintenance margin of a position of `notional` (USD): `mmr_j N - a_j`.
    #[inline]
    pub fn maintenance(&self, notional: f64) -> f64 {
        match self.tier_of(notional) {
            None => self.mmr * notional,
            Some(j) => self.tiers()[j].mmr * notional - self.amount(j),
        }
    }

    /// `E < MM(N)`.
    #[inline]
    pub fn is_liquidatable(&self, equity: f64, notional: f64) -> bool {
        notional > 0.0 && equity < self.maintenance(notional)
    }

    /// The leverage a trader with `collateral` opens at when it asks for `leverage`: at most
    /// the cap of the tier its notional lands in (a notional capped into a lower tier stops
    /// at that tier's cap, or just under the next floor).
    pub fn cap_leverage(&self, collateral: f64, leverage: f64) -> f64 {
        let base = leverage.min(1.0 / self.imr);
        let tiers = self.tiers();
        if tiers.is_empty() {
            return base;
        }
        // A notional held under a floor stops a hair below it, inside the lower tier.
        let under = 1.0 - 1e-12;
        let mut best = base.min(tiers[0].from_notional / collateral * under);
        for (j, t) in tiers.iter().enumerate() {
            let ceiling = tiers
                .get(j + 1)
                .map_or(f64::INFINITY, |n| n.from_notional / collateral * under);
            let l = leverage.min(1.0 / t.imr).min(ceiling);
            if l * collateral >= t.from_notional {
                best = best.max(l);
            }
        }
        best
    }

    /// The mark at which a position with collateral `c`, size `q` and entry `e` becomes
    /// liquidatable, solving `c + q (P - e) = MM(|q| P)`. Without tiers: long
    /// `P = (q e - c) / (q (1 - mmr))` (liquidatable below), short
    /// `P = (c + |q| e) / (|q| (1 + mmr))` (liquidatable above). With tiers the tier is the
    /// one whose floor the root lies above: `E - MM` is monotone in `P` and continuous, so
    /// it is found by its sign at the floors. `None` when flat, or for a long so well
    /// collateralized that no positive price liquidates it.
    #[inline]
    pub fn liquidation_price(&self, c: f64, q: f64, e: f64) -> Option<f64> {
        if q > 0.0 {
            let (m, a) = self.root_tier(|floor, mm| c + floor - q * e - mm <= 0.0);
            let p = (q * e - c - a) / (q * (1.0 - m));
            (p > 0.0).then_some(p)
        } else if q < 0.0 {
            let s = -q;
            let (m, a) = self.root_tier(|floor, mm| c + s * e - floor - mm >= 0.0);
            Some((c + s * e + a) / (s * (1.0 + m)))
        } else {
            None
        }
    }

    /// How far the mark must move against a position with collateral `c`, size `q` and entry
    /// `e`, as a share of `mark`, before it is liquidatable at [`Self::liquidation_price`]:
    /// long `(M - M_liq) / M`, short `(M_liq - M) / M`; negative when it already is. A long
    /// that no positive price liquidates is the whole way to 0 away (1). `None` when flat.
    pub fn distance_to_liquidation(&self, c: f64, q: f64, e: f64, mark: f64) -> Option<f64> {
        if q == 0.0 {
            return None;
        }
        Some(match self.liquidation_price(c, q, e) {
            Some(p) if q > 0.0 => (mark - p) / mark,
            Some(p) => (p - mark) / mark,
            None => 1.0,
        })
    }

    /// The rates `(mmr_j, a_j)` of the highest tier whose floor notional and maintenance
    /// margin there pass `below_root` (the root lies above that floor); the base tier's when
    /// none does.
    #[inline]
    fn root_tier(&self, below_root: impl Fn(f64, f64) -> bool) -> (f64, f64) {
        let Some(schedule) = self.schedule.as_deref() else {
            return (self.mmr, 0.0);
        };
        match schedule
            .tiers
            .iter()
            .zip(&schedule.at_floor)
            .rposition(|(t, &mm)| below_root(t.from_notional, mm))
        {
            None => (self.mmr, 0.0),
            Some(j) => (schedule.tiers[j].mmr, schedule.amount[j]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The maintenance margin kept at each floor for the liquidation price's search is the
    /// one `maintenance` gives there, bit for bit.
    #[test]
    fn the_maintenance_kept_at_each_floor_is_the_rules() {
        let tiers = [
            MarginTier {
                from_notional: 1e5,
                imr: 0.02,
                mmr: 0.0113,
            },
            MarginTier {
                from_notional: 7.3e5,
                imr: 0.05,
                mmr: 0.0271,
            },
        ];
        let m = MarginParams::new(0.01, 0.005)
            .unwrap()
            .with_tiers(&tiers)
            .unwrap();
        let schedule = m.schedule.as_deref().unwrap();
        for (t, &kept) in tiers.iter().zip(&schedule.at_floor) {
            assert_eq!(kept.to_bits(), m.maintenance(t.from_notional).to_bits());
        }
    }

    #[test]
    fn liquidation_price_solves_the_maintenance_equation() {
        let m = MarginParams::new(0.02, 0.01).unwrap();
        for &(c, q, e) in &[(1000.0, 1.0, 30_000.0), (1000.0, -1.0, 30_000.0)] {
            let p = m.liquidation_price(c, q, e).unwrap();
            let equity = c + q * (p - e);
            let notional: f64 = q.abs() * p;
            assert!((equity - m.mmr() * notional).abs() < 1e-9 * notional);
            // Just past the price it is liquidatable, just before it is not.
            let past = if q > 0.0 {
                p * (1.0 - 1e-9)
            } else {
                p * (1.0 + 1e-9)
            };
            let before = if q > 0.0 {
                p * (1.0 + 1e-9)
            } else {
                p * (1.0 - 1e-9)
            };
            assert!(m.is_liquidatable(c + q * (past - e), q.abs() * past));
            assert!(!m.is_liquidatable(c + q * (before - e), q.abs() * before));
        }
        // A 1x long cannot be liquidated at any positive price when mmr < 1.
        assert_eq!(m.liquidation_price(30_000.0, 1.0, 30_000.0), None);
    }

    fn tier(from_notional: f64, imr: f64, mmr: f64) -> MarginTier {
        MarginTier {
            from_notional,
            imr,
            mmr,
        }
    }

    /// Binance's BTCUSDT brackets of about 2020 (20x up to 5M USDT), whose FAQ gives two
    /// maintenance amounts.
    fn binance_2020() -> MarginParams {
        MarginParams::new(0.008, 0.004)
            .unwrap()
            .with_tiers(&[
                tier(5e4, 0.01, 0.005),
                tier(2.5e5, 0.02, 0.01),
                tier(1e6, 0.05, 0.025),
                tier(5e6, 0.10, 0.05),
                tier(2e7, 0.20, 0.10),
            ])
            .unwrap()
    }

    /// The continuous form is Binance's: "if the position of BTC/USDT Contract is 264,000
    /// USDT, then the maintenance amount would be 1,300 USDT", and "Maintenance Amount on
    /// Level 5 = 5,000,000 USDT * (5% - 2.5%) + 16,300 USDT = 141,300 USDT".
    #[test]
    fn maintenance_amounts_are_binances() {
        let m = binance_2020();
        assert!((m.maintenance(264_000.0) - (264_000.0 * 0.01 - 1_300.0)).abs() < 1e-6);
        assert!((m.maintenance(6e6) - (6e6 * 0.05 - 141_300.0)).abs() < 1e-6);
        // Continuous at every floor, and the base tier untouched.
        for t in m.tiers() {
            let (below, at) = (
                m.maintenance(t.from_notional * (1.0 - 1e-12)),
                m.maintenance(t.from_notional),
            );
            assert!((below - at).abs() < 1e-6 * at, "{}", t.from_notional);
        }
        assert_eq!(m.maintenance(1e4), 0.004 * 1e4);
        assert_eq!(m.initial(3e5), 0.02 * 3e5);
    }

    /// Across the tiers the liquidation price solves `E = MM(|q| P)` and is the boundary:
    /// liquidatable just past it, not just before; longs and shorts of every size.
    #[test]
    fn tiered_liquidation_price_is_the_boundary() {
        let m = binance_2020();
        let mut checked = 0;
        for size in [0.5, 3.0, 12.0, 40.0, 150.0, 600.0] {
            for leverage in [2.0, 5.0, 15.0, 40.0, 90.0] {
                for sign in [1.0, -1.0] {
                    let (e, q) = (30_000.0, sign * size);
                    let c = size * e / leverage;
                    let Some(p) = m.liquidation_price(c, q, e) else {
                        continue;
                    };
                    let equity = c + q * (p - e);
                    let need = m.maintenance(q.abs() * p);
                    assert!((equity - need).abs() < 1e-7 * q.abs() * p, "{q} {leverage}");
                    let (past, before) = if q > 0.0 {
                        (p * (1.0 - 1e-9), p * (1.0 + 1e-9))
                    } else {
                        (p * (1.0 + 1e-9), p * (1.0 - 1e-9))
                    };
                    assert!(m.is_liquidatable(c + q * (past - e), q.abs() * past));
                    assert!(!m.is_liquidatable(c + q * (before - e), q.abs() * before));
                    checked += 1;
                }
            }
        }
        assert!(checked > 40);
    }

    /// The leverage cap opens every account inside its tier's initial margin, so no account
    /// opens liquidatable, and never above what was asked.
    #[test]
    fn capped_accounts_open_within_their_tier() {
        let m = binance_2020();
        for collateral in [100.0, 2e3, 1e4, 6e4, 3e5, 2e6] {
            for asked in [1.5, 10.0, 30.0, 80.0, 125.0, 200.0] {
                let l = m.cap_leverage(collateral, asked);
                let n = l * collateral;
                assert!(l <= asked && l > 0.0);
                assert!(
                    m.initial(n) <= collateral * (1.0 + 1e-12),
                    "{collateral} {asked}: {l}"
                );
                assert!(!m.is_liquidatable(collateral, n));
            }
        }
        // Untiered: the old cap, bit for bit.
        let flat = MarginParams::new(0.02, 0.01).unwrap();
        assert_eq!(flat.cap_leverage(1e4, 80.0), 80.0_f64.min(1.0 / 0.02));
    }

    #[test]
    fn tiers_that_would_open_liquidatable_are_refused() {
        let base = MarginParams::new(0.02, 0.01).unwrap();
        let e = base
            .clone()
            .with_tiers(&[tier(1e5, 0.03, 0.05)])
            .unwrap_err();
        assert!(
            e.field.contains("tiers[0]") && e.rule.contains("top tier"),
            "{e:?}"
        );
        let e = base
            .clone()
            .with_tiers(&[tier(1e5, 0.03, 0.02), tier(5e4, 0.04, 0.03)])
            .unwrap_err();
        assert_eq!(e.field, "tiers[1].from_usd");
        let e = base.with_tiers(&[tier(1e5, 0.015, 0.012)]).unwrap_err();
        assert_eq!(e.field, "tiers[0].imr");
    }

    #[test]
    fn mmr_must_be_below_imr() {
        let e = MarginParams::new(0.01, 0.01).unwrap_err();
        assert_eq!(e.field, "mmr");
        assert!(e.rule.contains("< imr"));
    }
}
