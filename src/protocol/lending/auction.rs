//! Maker/Sky Liquidations 2.0 (`dog.sol`, `clip.sol`, `abaci.sol`): a liquidation (`bark`)
//! starts a Dutch auction (`kick`) of the collateral for the debt times `1 + chop`. The price
//! starts at `buf` times the oracle and falls by `cut` every `step` seconds
//! (`StairstepExponentialDecrease`); keepers `take` at the current price; the auction needs a
//! `redo` after `tail` seconds or once the price is below `cusp` of its start. Each kick and
//! redo pays the keeper `tip + chip * tab` from the surplus (the fund). `hole` caps the debt
//! in active auctions.

use crate::params::{ParamError, ParamResult, non_negative, positive};

/// A collateral type's auction parameters, by their names in `clip.sol` and `dog.sol`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AuctionTerms {
    /// Starting price over the oracle (`buf`, 1.10 to 1.20).
    pub buf: f64,
    /// Price multiplier per step (`cut`, 0.99).
    pub cut: f64,
    /// Seconds per price step (`step`, 90).
    pub step_seconds: f64,
    /// Seconds before a reset is needed (`tail`).
    pub tail_seconds: f64,
    /// Share of the starting price below which a reset is needed (`cusp`, 0.45).
    pub cusp: f64,
    /// Liquidation penalty as a share of the debt (`chop` - 1, 0.13).
    pub chop: f64,
    /// The ilk's `dust` (USD): the smallest vault debt; a partial bark may not leave less in
    /// the vault nor auction less (`dog.bark`), and `chost = dust x chop` gates the redo
    /// incentive (`clip.redo`).
    pub dust: f64,
    /// Flat keeper incentive per kick or redo, USD (`tip`, 250).
    pub tip: f64,
    /// Keeper incentive as a share of the tab (`chip`, 0.001).
    pub chip: f64,
}

/// [`AuctionTerms`] checked once: every auction reads them through this type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AuctionRules(AuctionTerms);

impl AuctionRules {
    /// Every rule of `clip.sol`'s `file`: `buf >= 1`, `cut` in (0, 1], `step` and `tail`
    /// positive, `cusp` in (0, 1), `chop`, `tip` and `chip` non-negative.
    pub fn new(terms: AuctionTerms) -> ParamResult<Self> {
        let AuctionTerms { buf, cut, cusp, .. } = terms;
        if !(buf >= 1.0 && buf.is_finite()) {
            return Err(ParamError::new("buf", format!("must be >= 1, got {buf}")));
        }
        if !(cut > 0.0 && cut <= 1.0) {
            return Err(ParamError::new(
                "cut",
                format!("must be in (0, 1], got {cut}"),
            ));
        }
        if !(cusp > 0.0 && cusp < 1.0) {
            return Err(ParamError::new(
                "cusp",
                format!("must be in (0, 1), got {cusp}"),
            ));
        }
        positive("step_seconds", terms.step_seconds)?;
        positive("tail_seconds", terms.tail_seconds)?;
        // The contract's `chop` is the multiplier 1.13; the file and these rules take the
        // penalty, 0.13. A value of 1 or more is almost surely the multiplier.
        if !(terms.chop >= 0.0 && terms.chop < 1.0) {
            return Err(ParamError::new(
                "chop",
                format!(
                    "is the penalty as a share of the debt, in [0, 1): 0.13 for ETH-A's 13% \
                     (the contract's chop = 1.13 is 1 + this), got {}",
                    terms.chop
                ),
            ));
        }
        non_negative("dust_usd", terms.dust)?;
        non_negative("tip", terms.tip)?;
        non_negative("chip", terms.chip)?;
        Ok(Self(terms))
    }

    pub fn terms(&self) -> &AuctionTerms {
        &self.0
    }

    /// `tip + chip * tab`: what a keeper earns for a kick or a redo.
    pub fn incentive(&self, tab: f64) -> f64 {
        self.0.tip + self.0.chip * tab
    }

    /// `bark` and `kick`: an auction of `collateral` units for `debt * (1 + chop)`, starting
    /// at `buf * oracle` at time `now`.
    pub fn kick(&self, debt: f64, collateral: f64, oracle: f64, now: f64) -> Auction {
        Auction {
            tab: debt * (1.0 + self.0.chop),
            lot: collateral,
            top: self.0.buf * oracle,
            tic: now,
            debt,
        }
    }

    /// `clip.sol`'s `chost`: `dust x chop` (the contract's chop, `1 + penalty`).
    pub fn chost(&self) -> f64 {
        self.0.dust * (1.0 + self.0.chop)
    }

    /// `redo`'s incentive: `tip + chip x tab`, paid only when the tab and the lot at the
    /// oracle are both at least `chost` (`clip.redo`: `tab >= chost && lot * feedPrice >=
    /// chost`), so that dust auctions cannot be farmed for incentives.
    pub fn redo_incentive(&self, auction: &Auction, oracle: f64) -> f64 {
        let chost = self.chost();
        if auction.tab >= chost && auction.lot * oracle >= chost {
            self.incentive(auction.tab)
        } else {
            0.0
        }
    }

    /// The auction price at `now` (`StairstepExponentialDecrease.price`):
    /// `top * cut^floor((now - tic) / step)`.
    pub fn price(&self, auction: &Auction, now: f64) -> f64 {
        let steps = ((now - auction.tic) / self.0.step_seconds).floor().max(0.0);
        auction.top * self.0.cut.powf(steps)
    }

    /// `status`: whether the auction needs a redo at `now` (too old, or its price fell below
    /// `cusp` of its start).
    pub fn needs_redo(&self, auction: &Auction, now: f64) -> bool {
        now - auction.tic > self.0.tail_seconds
            || self.price(auction, now) < self.0.cusp * auction.top
    }

    /// `redo`: a fresh start at `buf * oracle` from `now`; the keeper's incentive is paid
    /// again.
    pub fn redo(&self, auction: &mut Auction, oracle: f64, now: f64) {
        auction.top = self.0.buf * oracle;
        auction.tic = now;
    }

    /// `take`: a keeper buys up to `max_collateral` units at the current price; it pays at
    /// most the tab (buying less collateral when the tab is smaller). `None` when the auction
    /// needs a redo (the contract refuses takes then).
    pub fn take(&self, auction: &mut Auction, max_collateral: f64, now: f64) -> Option<Take> {
        if self.needs_redo(auction, now) || auction.lot <= 0.0 || auction.tab <= 0.0 {
            return None;
        }
        let price = self.price(auction, now);
        let mut collateral = max_collateral.min(auction.lot);
        let mut paid = collateral * price;
        if paid >= auction.tab {
            paid = auction.tab;
            collateral = paid / price;
        }
        auction.tab -= paid;
        auction.lot -= collateral;
        if auction.tab <= 0.0 {
            auction.tab = 0.0;
        }
        Some(Take {
            collateral,
            paid,
            price,
        })
    }
}

/// What `dog.bark` moves from a vault into an auction: `debt` (USD, `dart x rate`) and
/// `collateral` (units, `dink`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bark {
    pub debt: f64,
    pub collateral: f64,
}

/// One running auction (`clip.sol`'s `Sale`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Auction {
    /// Debt still to raise, penalty included (USD).
    pub tab: f64,
    /// Collateral still for sale (units).
    pub lot: f64,
    /// Starting price of the current round.
    pub top: f64,
    /// Start time of the current round (seconds).
    pub tic: f64,
    /// Vault debt still to raise (USD): the `dart x rate` the bark moved to the vow, which
    /// takes pay before the penalty; what a lot sold out leaves of it is bad debt.
    pub debt: f64,
}

impl Auction {
    /// Sold out with debt left: the rest of the tab is bad debt.
    pub fn is_sold_out_short(&self) -> bool {
        self.lot <= 0.0 && self.tab > 0.0
    }
}

/// One `take`: `collateral` units bought for `paid` USD at `price`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Take {
    pub collateral: f64,
    pub paid: f64,
    pub price: f64,
}

/// A collateral type's auction rules, its liquidation ratio and its hole, checked once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MakerAuctions {
    pub(crate) rules: AuctionRules,
    liquidation_threshold: f64,
    /// At most this much tab (USD) runs in auctions at once (`dog.sol`'s `Hole`).
    pub(crate) hole: f64,
}

impl MakerAuctions {
    /// `liquidation_threshold` is `1 / mat` (Maker's ETH-A: `mat` 145%, 0.69) in (0, 1);
    /// `hole` positive (USD).
    pub fn new(rules: AuctionRules, liquidation_threshold: f64, hole: f64) -> ParamResult<Self> {
        if !(liquidation_threshold > 0.0 && liquidation_threshold < 1.0) {
            return Err(ParamError::new(
                "liquidation_threshold",
                format!("must be in (0, 1), got {liquidation_threshold}"),
            ));
        }
        Ok(Self {
            rules,
            liquidation_threshold,
            hole: positive("hole_usd", hole)?,
        })
    }

    pub fn liquidation_threshold(&self) -> f64 {
        self.liquidation_threshold
    }

    /// `dog.bark` on a vault owing `debt` (USD) against `collateral` units, with `dirt` USD
    /// of tab already running: `room = hole - dirt` (this market is one ilk, and `hole` the
    /// smaller of `Hole` and `ilk.hole`), `dart = min(art, room / rate / chop)`; when that
    /// would leave the vault with less than `dust` of debt, the whole vault goes (the tab
    /// may then pass the hole, by at most `dust x chop`), and a partial auction under `dust`
    /// reverts (`Dog/dusty-auction-from-partial-liquidation`). `dink = ink x dart / art`.
    /// `None` when the hole is full (`Dog/liquidation-limit-hit`) or the bark reverts.
    pub fn bark(&self, debt: f64, collateral: f64, dirt: f64) -> Option<Bark> {
        let room = self.hole - dirt;
        if room <= 0.0 || debt <= 0.0 || collateral <= 0.0 {
            return None;
        }
        let terms = self.rules.terms();
        let mut dart = debt.min(room / (1.0 + terms.chop));
        if debt > dart {
            if debt - dart < terms.dust {
                dart = debt;
            } else if dart < terms.dust {
                return None;
            }
        }
        let dink = if dart >= debt {
            collateral
        } else {
            collateral * dart / debt
        };
        (dink > 0.0).then_some(Bark {
            debt: dart,
            collateral: dink,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ETH-A-like: buf 1.2, cut 0.99 per 90 s, tail 8,400 s, cusp 0.45, chop 13%, tip 250
    /// USD, chip 0.1%.
    const ETH_A: AuctionTerms = AuctionTerms {
        buf: 1.2,
        cut: 0.99,
        step_seconds: 90.0,
        tail_seconds: 8_400.0,
        cusp: 0.45,
        chop: 0.13,
        dust: 0.0,
        tip: 250.0,
        chip: 0.001,
    };

    fn eth_a() -> AuctionRules {
        AuctionRules::new(ETH_A).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    #[test]
    fn the_price_falls_by_cut_each_step() {
        let r = eth_a();
        let a = r.kick(100_000.0, 50.0, 3_000.0, 1_000.0);
        assert!(close(a.tab, 113_000.0) && close(a.top, 3_600.0));
        assert!(close(r.price(&a, 1_000.0), 3_600.0));
        assert!(close(r.price(&a, 1_089.0), 3_600.0));
        assert!(close(r.price(&a, 1_090.0), 3_600.0 * 0.99));
        assert!(close(
            r.price(&a, 1_000.0 + 90.0 * 50.0),
            3_600.0 * 0.99f64.powi(50)
        ));
    }

    #[test]
    fn the_auction_resets_after_tail_or_below_cusp() {
        let r = eth_a();
        let mut a = r.kick(100_000.0, 50.0, 3_000.0, 0.0);
        // 0.99^k < 0.45 from k = 80 (0.99^79 = 0.4520, 0.99^80 = 0.4475): 7,200 s, before
        // the tail of 8,400 s.
        assert!(!r.needs_redo(&a, 79.0 * 90.0));
        assert!(r.needs_redo(&a, 80.0 * 90.0));
        assert_eq!(r.take(&mut a, 1.0, 80.0 * 90.0), None);
        // With a cusp of 0.1 the tail comes first.
        let slow = AuctionRules::new(AuctionTerms { cusp: 0.1, ..ETH_A }).unwrap();
        assert!(!slow.needs_redo(&a, 8_400.0) && slow.needs_redo(&a, 8_400.5));
        r.redo(&mut a, 2_500.0, 7_200.0);
        assert!(close(a.top, 3_000.0) && a.tic == 7_200.0 && !r.needs_redo(&a, 7_200.0));
    }

    #[test]
    fn takes_pay_the_tab_and_a_short_sale_leaves_bad_debt() {
        let r = eth_a();
        let mut a = r.kick(100_000.0, 50.0, 3_000.0, 0.0);
        // At the start price 3,600, 20 units pay 72,000 of the 113,000 tab.
        let t = r.take(&mut a, 20.0, 0.0).unwrap();
        assert!(close(t.paid, 72_000.0) && close(a.tab, 41_000.0) && close(a.lot, 30.0));
        // All the rest of the lot would pay 108,000: only the tab's 41,000 is taken.
        let t = r.take(&mut a, 100.0, 0.0).unwrap();
        assert!(close(t.collateral, 41_000.0 / 3_600.0) && a.tab == 0.0);
        assert!(!a.is_sold_out_short());
        // A crashed market: 50 units at 1,000 USD cannot raise 113,000.
        let mut b = r.kick(100_000.0, 50.0, 1_000.0, 0.0);
        r.take(&mut b, 50.0, 0.0).unwrap();
        assert!(b.is_sold_out_short() && close(b.tab, 113_000.0 - 60_000.0));
    }

    #[test]
    fn the_keeper_incentive() {
        let r = eth_a();
        assert!(close(r.incentive(113_000.0), 250.0 + 113.0));
    }

    /// ETH-A with `dust` 7,500 USD and a hole of 100,000 USD.
    fn ilk(hole: f64) -> MakerAuctions {
        let rules = AuctionRules::new(AuctionTerms {
            dust: 7_500.0,
            ..ETH_A
        })
        .unwrap();
        MakerAuctions::new(rules, 1.0 / 1.45, hole).unwrap()
    }

    /// `dog.bark` with `room = hole - dirt`: a vault whose tab fits goes whole; a larger one
    /// is barked in part, `dart = room / chop` and `dink = ink dart / art`; a remainder
    /// under `dust` takes the whole vault; a partial auction under `dust` reverts, as does a
    /// full hole.
    #[test]
    fn a_vault_larger_than_the_room_is_barked_in_part() {
        let m = ilk(100_000.0);
        // 50,000 of debt: tab 56,500 fits under 100,000.
        let b = m.bark(50_000.0, 30.0, 0.0).unwrap();
        assert_eq!(
            b,
            Bark {
                debt: 50_000.0,
                collateral: 30.0
            }
        );
        // 200,000 of debt, 60,000 of tab already running: room 40,000, dart 40,000 / 1.13.
        let b = m.bark(200_000.0, 100.0, 60_000.0).unwrap();
        let dart = 40_000.0 / 1.13;
        assert!(close(b.debt, dart), "{b:?}");
        assert!(close(b.collateral, 100.0 * dart / 200_000.0), "{b:?}");
        assert!(close(b.debt * 1.13, 40_000.0));
        // 40,000 of debt with room 40,000: dart 35,398 would leave 4,602 < dust: all of it.
        let b = m.bark(40_000.0, 20.0, 60_000.0).unwrap();
        assert_eq!(
            b,
            Bark {
                debt: 40_000.0,
                collateral: 20.0
            }
        );
        // Room 5,000: dart 4,425 < dust from a vault of 200,000: reverts.
        assert_eq!(m.bark(200_000.0, 100.0, 95_000.0), None);
        // A full hole.
        assert_eq!(m.bark(1_000.0, 1.0, 100_000.0), None);
    }

    /// `clip.redo` pays `tip + chip tab` only when the tab and the lot's value at the oracle
    /// are at least `chost = dust x chop` (7,500 x 1.13 = 8,475).
    #[test]
    fn the_redo_incentive_honours_chost() {
        let r = AuctionRules::new(AuctionTerms {
            dust: 7_500.0,
            ..ETH_A
        })
        .unwrap();
        assert!(close(r.chost(), 8_475.0));
        let a = r.kick(100_000.0, 50.0, 3_000.0, 0.0);
        assert!(close(r.redo_incentive(&a, 3_000.0), 250.0 + 113.0));
        // Lot worth 3 x 2,000 = 6,000 < chost: no incentive.
        let small_lot = Auction { lot: 3.0, ..a };
        assert_eq!(r.redo_incentive(&small_lot, 2_000.0), 0.0);
        // Tab 8,000 < chost: none either.
        let small_tab = Auction { tab: 8_000.0, ..a };
        assert_eq!(r.redo_incentive(&small_tab, 3_000.0), 0.0);
        // Without dust (chost 0) the incentive is always paid.
        assert!(eth_a().redo_incentive(&small_tab, 3_000.0) > 0.0);
    }

    #[test]
    fn parameters_out_of_range_are_refused() {
        let refused = |terms: AuctionTerms| AuctionRules::new(terms).is_err();
        assert!(refused(AuctionTerms { buf: 0.9, ..ETH_A }));
        assert!(refused(AuctionTerms { cut: 0.0, ..ETH_A }));
        assert!(refused(AuctionTerms { cusp: 1.0, ..ETH_A }));
        assert!(refused(AuctionTerms {
            step_seconds: 0.0,
            ..ETH_A
        }));
        assert!(refused(AuctionTerms {
            chop: -0.1,
            ..ETH_A
        }));
        assert!(refused(AuctionTerms {
            tip: f64::NAN,
            ..ETH_A
        }));
        // The contract's multiplier given as the penalty: refused, naming the convention.
        let e = AuctionRules::new(AuctionTerms {
            chop: 1.13,
            ..ETH_A
        })
        .unwrap_err();
        assert_eq!(e.field, "chop");
        assert!(e.rule.contains("0.13"), "{}", e.rule);
        assert!(refused(AuctionTerms { chop: 1.0, ..ETH_A }));
        assert!(!refused(ETH_A));
    }
}
