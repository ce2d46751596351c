//! Loss socialization (MODEL.md section 6): who pays a deficit the fund cannot cover.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Account, Venue};

/// What socialization took from other traders for one deficit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Socialized {
    /// USD covered.
    pub covered: f64,
    /// Positions hit.
    pub positions: u32,
    /// Notional of positions closed (ADL) at the mark.
    pub notional: f64,
}

/// A rule for covering the `residual` of trader `bankrupt`'s deficit once the fund is empty.
/// Implementations move money only through the venue's ledger.
pub trait LossSocialization: Send + Sync {
    fn cover(
        &self,
        venue: &mut Venue,
        bankrupt: u32,
        bankrupt_was_long: bool,
        residual: f64,
        mark: f64,
    ) -> Socialized;
}

/// Nobody covers it: the residual stays as uncovered bad debt (the venue is insolvent).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSocialization;

impl LossSocialization for NoSocialization {
    fn cover(&self, _: &mut Venue, _: u32, _: bool, _: f64, _: f64) -> Socialized {
        Socialized::default()
    }
}

/// Auto-deleveraging as BitMEX and Binance run it: profitable positions on the other side are
/// ranked by `PnL% * effective leverage`, highest first, and closed at the mark, outside the
/// book, handing over the profit of the closed part until the residual is covered; the last
/// one is closed only as far as needed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Adl;

/// BitMEX's ADL ranking score of a profitable position (`None` when not in profit):
/// `PnL% = upnl / (|q| e)` times effective leverage `|q| P / (C + upnl)`.
pub fn adl_rank(collateral: f64, size: f64, entry: f64, mark: f64) -> Option<f64> {
    let upnl = size * (mark - entry);
    let equity = collateral + upnl;
    if size == 0.0 || upnl <= 0.0 || equity <= 0.0 {
        return None;
    }
    let pnl_pct = upnl / (size.abs() * entry);
    let effective_leverage = size.abs() * mark / equity;
    Some(pnl_pct * effective_leverage)
}

impl LossSocialization for Adl {
    fn cover(
        &self,
        venue: &mut Venue,
        bankrupt: u32,
        bankrupt_was_long: bool,
        residual: f64,
        mark: f64,
    ) -> Socialized {
        // One O(n) scan and an O(n) heapify; popping stops as soon as the residual is covered,
        // usually after one or two positions. Scores are positive, so their bit patterns order
        // like the numbers; ties go to the lower trader id.
        // Only the bankrupt trader's market: its counterparties are there.
        let book = &venue.book;
        let traders = venue.market_traders(venue.market_of(bankrupt));
        let mut ranked: BinaryHeap<(u64, Reverse<u32>)> = (traders.start as usize
            ..traders.end as usize)
            .filter(|&j| (book.size[j] < 0.0) == bankrupt_was_long && book.size[j] != 0.0)
            .filter_map(|j| {
                adl_rank(book.collateral[j], book.size[j], book.entry[j], mark)
                    .map(|r| (r.to_bits(), Reverse(j as u32)))
            })
            .collect::<Vec<_>>()
            .into();
        let mut out = Socialized::default();
        let mut left = residual;
        while let Some((_, Reverse(j))) = ranked.pop() {
            if left <= 0.0 {
                break;
            }
            let k = j as usize;
            let upnl = venue.book.unrealized_pnl(k, mark);
            let fraction = (left / upnl).min(1.0);
            let handed_over = fraction * upnl;
            let closed = fraction * venue.book.size[k];
            // Realize the closed part's profit, then hand it over to the bankrupt account.
            venue.transfer(Account::Counterparty, Account::Trader(j), handed_over);
            venue.transfer(Account::Trader(j), Account::Trader(bankrupt), handed_over);
            venue.book.size[k] = if fraction >= 1.0 {
                0.0
            } else {
                venue.book.size[k] - closed
            };
            venue.reindex(j);
            out.covered += handed_over;
            out.positions += 1;
            out.notional += closed.abs() * mark;
            left -= handed_over;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{InsuranceFund, MarginParams, PositionBook};

    /// Three profitable shorts, one losing short and a long; ADL takes from the highest
    /// ranked short first, closes only the needed part of the last one, and ignores longs
    /// and losing positions.
    #[test]
    fn adl_follows_the_ranking_and_stops_when_covered() {
        let mut book = PositionBook::default();
        book.push(0.0, 1.0, 100.0); // 0: the bankrupt long (already closed below)
        book.push(1_000.0, -10.0, 110.0); // 1: upnl 100 at mark 100
        book.push(100.0, -10.0, 105.0); // 2: upnl 50, high leverage
        book.push(5_000.0, -20.0, 102.0); // 3: upnl 40, low leverage
        book.push(1_000.0, -10.0, 95.0); // 4: losing short
        book.push(1_000.0, 10.0, 90.0); // 5: profitable long (same side as bankrupt)
        let mut v = Venue::open(
            book,
            MarginParams::new(0.02, 0.01).unwrap(),
            InsuranceFund::new(0.0).unwrap(),
        );
        v.book.size[0] = 0.0;
        let mark = 100.0;
        let r1 = adl_rank(1_000.0, -10.0, 110.0, mark).unwrap();
        let r2 = adl_rank(100.0, -10.0, 105.0, mark).unwrap();
        let r3 = adl_rank(5_000.0, -20.0, 102.0, mark).unwrap();
        assert!(r2 > r1 && r1 > r3, "{r1} {r2} {r3}");
        assert_eq!(adl_rank(1_000.0, -10.0, 95.0, mark), None);

        // Residual 120: trader 2 gives all 50, trader 1 gives 70 of its 100 (closing 70%).
        let s = Adl.cover(&mut v, 0, true, 120.0, mark);
        assert!((s.covered - 120.0).abs() < 1e-9);
        assert_eq!(s.positions, 2);
        assert_eq!(v.book.size[2], 0.0);
        assert!((v.book.size[1] - (-3.0)).abs() < 1e-12);
        assert_eq!(v.book.size[3], -20.0);
        assert_eq!(v.book.size[5], 10.0);
        assert!((s.notional - 1_700.0).abs() < 1e-9);
        // The hit traders' collateral is unchanged: they handed over what they realized.
        assert_eq!(v.book.collateral[1], 1_000.0);
        assert!((v.book.collateral[0] - 120.0).abs() < 1e-9);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
    }

    #[test]
    fn adl_leaves_what_nobody_can_cover() {
        let mut book = PositionBook::default();
        book.push(0.0, 0.0, 0.0);
        book.push(1_000.0, -1.0, 110.0);
        let mut v = Venue::open(
            book,
            MarginParams::new(0.02, 0.01).unwrap(),
            InsuranceFund::new(0.0).unwrap(),
        );
        let s = Adl.cover(&mut v, 0, true, 50.0, 100.0);
        assert!((s.covered - 10.0).abs() < 1e-12);
        assert_eq!(v.book.size[1], 0.0);
    }
}
