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

/// The profitable traders of the bankrupt trader's market (any side) with their unrealized
/// profit, equity and notional at `mark`.
fn profitable(venue: &Venue, bankrupt: u32, mark: f64) -> Vec<(u32, f64, f64, f64)> {
    let book = &venue.book;
    let traders = venue.market_traders(venue.market_of(bankrupt));
    (traders.start..traders.end)
        .filter(|&j| j != bankrupt)
        .filter_map(|j| {
            let k = j as usize;
            let upnl = book.unrealized_pnl(k, mark);
            let equity = book.equity(k, mark);
            (book.size[k] != 0.0 && upnl > 0.0 && equity > 0.0)
                .then(|| (j, upnl, equity, book.notional(k, mark)))
        })
        .collect()
}

/// Takes `haircuts[n]` from the `n`-th of `who` and hands it to the bankrupt account: each
/// hit trader's profit shrinks, its position stays open (dYdX v3 and Drift socialize losses
/// this way).
fn hand_over(
    venue: &mut Venue,
    bankrupt: u32,
    who: &[(u32, f64, f64, f64)],
    haircuts: &[f64],
) -> Socialized {
    let mut out = Socialized::default();
    for (&(j, ..), &h) in who.iter().zip(haircuts) {
        if h > 0.0 {
            venue.transfer(Account::Trader(j), Account::Trader(bankrupt), h);
            venue.reindex(j);
            out.covered += h;
            out.positions += 1;
        }
    }
    out
}

/// Pro-rata socialized loss: every trader with unrealized profit in the market gives the same
/// share of it, `residual / total profit` (capped at all of it).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProRata;

impl LossSocialization for ProRata {
    fn cover(
        &self,
        venue: &mut Venue,
        bankrupt: u32,
        _: bool,
        residual: f64,
        mark: f64,
    ) -> Socialized {
        let who = profitable(venue, bankrupt, mark);
        let total: f64 = who.iter().map(|w| w.1).sum();
        if total <= 0.0 {
            return Socialized::default();
        }
        let share = (residual / total).min(1.0);
        let haircuts: Vec<f64> = who.iter().map(|w| w.1 * share).collect();
        hand_over(venue, bankrupt, &who, &haircuts)
    }
}

/// Risk-based socialization (Campbell, Hey, Moallemi and Nutz 2026, arXiv 2603.15963): the
/// haircuts `h_j` in `[0, profit_j]` that cover the residual while keeping the largest
/// resulting leverage `N_j / (E_j - h_j)` as small as possible. The answer is water-filling
/// on margin: for a level `m`, `h_j(m) = clamp(E_j - m N_j, 0, profit_j)` lowers every
/// trader with more than `m` of margin to `m` (leverage `1/m`); the largest `m` whose
/// haircuts still cover the residual is found by bisection.
#[derive(Clone, Copy, Debug, Default)]
pub struct RiskBased;

/// The water-filling haircuts of [`RiskBased`] for traders `(profit, equity, notional)`.
pub fn water_filling(who: &[(f64, f64, f64)], residual: f64) -> Vec<f64> {
    let total: f64 = who.iter().map(|w| w.0).sum();
    if total <= residual {
        return who.iter().map(|w| w.0).collect();
    }
    let at = |m: f64| -> Vec<f64> {
        who.iter()
            .map(|&(profit, equity, notional)| (equity - m * notional).clamp(0.0, profit))
            .collect()
    };
    let covered = |m: f64| at(m).iter().sum::<f64>();
    // covered() falls as m rises; at m = 0 it is the total profit, above every margin 0.
    let mut lo = 0.0;
    let mut hi = who.iter().map(|&(_, e, n)| e / n).fold(0.0, f64::max);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if covered(mid) >= residual {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // At `lo` the haircuts cover at least the residual; scale the excess (rounding) away.
    let h = at(lo);
    let sum: f64 = h.iter().sum();
    h.iter().map(|x| x * residual / sum).collect()
}

impl LossSocialization for RiskBased {
    fn cover(
        &self,
        venue: &mut Venue,
        bankrupt: u32,
        _: bool,
        residual: f64,
        mark: f64,
    ) -> Socialized {
        let who = profitable(venue, bankrupt, mark);
        if who.is_empty() {
            return Socialized::default();
        }
        let triples: Vec<(f64, f64, f64)> = who.iter().map(|w| (w.1, w.2, w.3)).collect();
        let haircuts = water_filling(&triples, residual);
        hand_over(venue, bankrupt, &who, &haircuts)
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

    /// Zubr's published ADL example (help.zubr.io, "Auto-Deleverage Ranking Example"): ten
    /// clients opposite the liquidated position with their %PnL and leverage. Positions are
    /// built to have exactly those (some need negative collateral: equity is what counts).
    /// Their order is 9, 7, 4, 10, 1, 5, 3, 6, 8, 2; a residual worth the first three
    /// profits and half the fourth's closes 9, 7 and 4 in full, half of 10, and nobody else.
    #[test]
    fn adl_ranks_zubrs_ten_clients_in_the_published_order() {
        let table = [
            (0.10, 4.0),
            (0.05, 0.5),
            (0.20, 1.2),
            (0.05, 10.0),
            (0.15, 2.0),
            (0.03, 4.0),
            (0.12, 5.0),
            (0.06, 0.8),
            (0.11, 11.0),
            (0.07, 6.0),
        ];
        let mark = 100.0;
        let mut book = PositionBook::default();
        book.push(0.0, 0.0, 0.0); // the bankrupt long
        for &(pnl, lev) in &table {
            // A short of 1 unit: entry e with (e - P) / e = pnl, equity P / lev.
            let entry = mark / (1.0 - pnl);
            book.push(mark / lev - (entry - mark), -1.0, entry);
        }
        let mut v = Venue::open(
            book,
            MarginParams::new(0.02, 0.01).unwrap(),
            InsuranceFund::new(0.0).unwrap(),
        );
        let mut ranks: Vec<(f64, usize)> = (1..=10)
            .map(|j| {
                let r = adl_rank(v.book.collateral[j], -1.0, v.book.entry[j], mark).unwrap();
                let (pnl, lev) = table[j - 1];
                assert!((r - pnl * lev).abs() < 1e-12, "client {j}: {r}");
                (r, j)
            })
            .collect();
        ranks.sort_by(|a, b| b.0.total_cmp(&a.0));
        let order: Vec<usize> = ranks.iter().map(|r| r.1).collect();
        assert_eq!(order, vec![9, 7, 4, 10, 1, 5, 3, 6, 8, 2]);
        let upnl = |j: usize| v.book.unrealized_pnl(j, mark);
        let residual = upnl(9) + upnl(7) + upnl(4) + 0.5 * upnl(10);
        let s = Adl.cover(&mut v, 0, true, residual, mark);
        assert!((s.covered - residual).abs() < 1e-9);
        for j in [9, 7, 4] {
            assert_eq!(v.book.size[j], 0.0, "client {j}");
        }
        assert!((v.book.size[10] + 0.5).abs() < 1e-12);
        for j in [1, 5, 3, 6, 8, 2] {
            assert_eq!(v.book.size[j], -1.0, "client {j}");
        }
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
    }

    /// Pro rata: everyone in profit gives the same share of it; the ledger balances.
    #[test]
    fn pro_rata_takes_the_same_share_of_every_profit() {
        let mut book = PositionBook::default();
        book.push(0.0, 0.0, 0.0);
        book.push(1_000.0, -10.0, 110.0); // profit 100
        book.push(1_000.0, 10.0, 80.0); // profit 200 (same side as the bankrupt: counts too)
        book.push(1_000.0, -10.0, 95.0); // losing
        let mut v = Venue::open(
            book,
            MarginParams::new(0.02, 0.01).unwrap(),
            InsuranceFund::new(0.0).unwrap(),
        );
        let s = ProRata.cover(&mut v, 0, true, 60.0, 100.0);
        assert!((s.covered - 60.0).abs() < 1e-12);
        assert!((v.book.collateral[1] - (1_000.0 - 20.0)).abs() < 1e-9);
        assert!((v.book.collateral[2] - (1_000.0 - 40.0)).abs() < 1e-9);
        assert_eq!(v.book.collateral[3], 1_000.0);
        assert_eq!(v.book.size[1], -10.0);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
    }

    /// Risk-based haircuts reach the smallest possible largest leverage: a brute-force search
    /// over a fine grid of feasible haircut vectors finds nothing better, on several small
    /// books (profit, equity, notional).
    #[test]
    fn risk_based_minimizes_the_largest_leverage() {
        let books: [&[(f64, f64, f64)]; 3] = [
            &[
                (100.0, 300.0, 1_000.0),
                (50.0, 80.0, 1_000.0),
                (200.0, 1_000.0, 2_000.0),
            ],
            &[
                (30.0, 60.0, 600.0),
                (90.0, 100.0, 400.0),
                (60.0, 500.0, 5_000.0),
            ],
            &[
                (10.0, 20.0, 100.0),
                (10.0, 20.0, 100.0),
                (500.0, 520.0, 10_000.0),
            ],
        ];
        let max_lev = |who: &[(f64, f64, f64)], h: &[f64]| {
            who.iter()
                .zip(h)
                .map(|(&(_, e, n), &x)| n / (e - x))
                .fold(0.0, f64::max)
        };
        for who in books {
            let total: f64 = who.iter().map(|w| w.0).sum();
            for residual in [0.1 * total, 0.5 * total, 0.9 * total] {
                let h = water_filling(who, residual);
                assert!((h.iter().sum::<f64>() - residual).abs() < 1e-9 * residual);
                for (x, w) in h.iter().zip(who) {
                    assert!(*x >= 0.0 && *x <= w.0 + 1e-12);
                }
                let ours = max_lev(who, &h);
                // Brute force: h0, h1 on a 400 x 400 grid, h2 = residual - h0 - h1.
                let mut best = f64::INFINITY;
                let steps = 400;
                for a in 0..=steps {
                    for b in 0..=steps {
                        let h0 = who[0].0 * a as f64 / steps as f64;
                        let h1 = who[1].0 * b as f64 / steps as f64;
                        let h2 = residual - h0 - h1;
                        if h2 < 0.0 || h2 > who[2].0 {
                            continue;
                        }
                        best = best.min(max_lev(who, &[h0, h1, h2]));
                    }
                }
                assert!(
                    ours <= best * (1.0 + 1e-9),
                    "{who:?} {residual}: {ours} > {best}"
                );
                // And the grid gets within its resolution of ours.
                assert!(
                    best <= ours * 1.01,
                    "{who:?} {residual}: grid {best} vs {ours}"
                );
            }
        }
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
