//! Loss socialization (MODEL.md section 6): who pays a deficit the fund cannot cover.

use super::PerpMarket;
use crate::protocol::trigger::{Direction, Falling, Trigger, TriggerQueue};
use crate::protocol::{Account, Holder, Ledger, LossSocialization, Socialized};

/// The rules run in a perp market, whose profitable traders cover what the fund cannot.
impl LossSocialization {
    /// Covers as much as the rule can of `residual`, what is left of the deficit of the
    /// trader at `bankrupt` in `market`'s book (a long if `bankrupt_was_long`), at `mark`.
    pub fn cover(
        self,
        market: &mut PerpMarket,
        ledger: &mut Ledger,
        bankrupt: usize,
        bankrupt_was_long: bool,
        residual: f64,
        mark: f64,
    ) -> Socialized {
        match self {
            LossSocialization::Adl => {
                adl(market, ledger, bankrupt, bankrupt_was_long, residual, mark)
            }
            LossSocialization::ProRata => pro_rata(market, ledger, bankrupt, residual, mark),
            LossSocialization::RiskBased => risk_based(market, ledger, bankrupt, residual, mark),
            LossSocialization::None => Socialized::default(),
        }
    }
}

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

/// A counterparty's place in the ADL ranking: its score's bits as the key (scores are
/// positive, so their bits order like the numbers), [`Falling`] order (highest first, ties to
/// the lower trader id); `None` for a trader that is not a profitable counterparty of a
/// bankrupt position on the other side.
#[inline]
fn adl_key(market: &PerpMarket, j: usize, bankrupt_was_long: bool, mark: f64) -> Option<Trigger> {
    let book = &market.book;
    if (book.size[j] < 0.0) != bankrupt_was_long || book.size[j] == 0.0 {
        return None;
    }
    adl_rank(book.collateral[j], book.size[j], book.entry[j], mark).map(|r| Trigger {
        key: r.to_bits(),
        id: j as u32,
        // Ranked once per deficit, nothing goes stale: no version to check.
        version: 0,
    })
}

/// Counterparties found one O(n) scan each before the rest are ranked in a heap.
const ADL_SCANS: usize = 4;

/// The next counterparty to deleverage, highest rank first among those not `taken` yet.
///
/// One or two counterparties usually cover a residual, so the first few are each found by a
/// scan that allocates nothing; past [`ADL_SCANS`] the rest are ranked once into `ranked`.
/// Taking a counterparty changes only that counterparty, so the order is the one a single
/// ranking of everyone at the start would give.
fn next_counterparty(
    market: &PerpMarket,
    bankrupt_was_long: bool,
    mark: f64,
    taken: &[u32],
    ranked: &mut Option<TriggerQueue<Falling>>,
) -> Option<u32> {
    let candidates = || {
        (0..market.book.len())
            .filter(|j| !taken.contains(&(*j as u32)))
            .filter_map(|j| adl_key(market, j, bankrupt_was_long, mark))
    };
    let best = match ranked {
        Some(heap) => heap.pop(),
        None if taken.len() < ADL_SCANS => candidates().max_by(Falling::cmp),
        None => ranked
            .insert(TriggerQueue::from_triggers(candidates().collect()))
            .pop(),
    };
    best.map(|t| t.id)
}

fn adl(
    market: &mut PerpMarket,
    ledger: &mut Ledger,
    bankrupt: usize,
    bankrupt_was_long: bool,
    residual: f64,
    mark: f64,
) -> Socialized {
    // Only the bankrupt trader's market: its counterparties are there.
    let mut taken: Vec<u32> = Vec::new();
    let mut ranked = None;
    let mut out = Socialized::default();
    let mut left = residual;
    loop {
        if left <= 0.0 {
            break;
        }
        let Some(j) = next_counterparty(market, bankrupt_was_long, mark, &taken, &mut ranked)
        else {
            break;
        };
        taken.push(j);
        let k = j as usize;
        let upnl = market.book.unrealized_pnl(k, mark);
        let fraction = (left / upnl).min(1.0);
        let handed_over = fraction * upnl;
        let closed = fraction * market.book.size[k];
        // Realize the closed part's profit, then hand it over to the bankrupt account.
        let counterparty = Holder::Ledger(Account::Counterparty);
        market.transfer(ledger, counterparty, Holder::Trader(k), handed_over);
        market.transfer(
            ledger,
            Holder::Trader(k),
            Holder::Trader(bankrupt),
            handed_over,
        );
        let size = market.book.size[k];
        market.book.size[k] = if fraction >= 1.0 { 0.0 } else { size - closed };
        market.desk.recognised.resized(k, size, market.book.size[k]);
        market.reindex(k);
        out.covered += handed_over;
        out.positions += 1;
        out.notional += closed.abs() * mark;
        left -= handed_over;
    }
    out
}

/// Closes the position at `bankrupt` against the profitable opposite positions, highest ADL
/// rank at `mark` first, every fill at `price` (its bankruptcy price): dYdX v4's deleveraging
/// (x/clob/keeper/deleveraging.go, `OffsetSubaccountPerpetualPosition`), and BitMEX's and
/// Binance's ADL, which match the bankrupt position at its bankruptcy price. Both sides
/// realize against the outside counterparty, so every transfer is paired. What no opposite
/// position covers stays with the bankrupt trader. Returns the positions hit and the
/// notional deleveraged (at the mark), and adds the bankrupt position's loss to
/// `position_loss`; nothing of a deficit is "covered": at its bankruptcy price the position
/// leaves none.
pub(super) fn deleverage_at(
    market: &mut PerpMarket,
    ledger: &mut Ledger,
    bankrupt: usize,
    price: f64,
    mark: f64,
    position_loss: &mut f64,
) -> Socialized {
    let long = market.book.size[bankrupt] > 0.0;
    let mut taken: Vec<u32> = Vec::new();
    let mut ranked = None;
    let mut out = Socialized::default();
    let counterparty = Holder::Ledger(Account::Counterparty);
    while market.book.size[bankrupt] != 0.0 {
        let Some(j) = next_counterparty(market, long, mark, &taken, &mut ranked) else {
            break;
        };
        taken.push(j);
        let k = j as usize;
        let (q, qj) = (market.book.size[bankrupt], market.book.size[k]);
        let c = q.abs().min(qj.abs());
        // The counterparty closes `c` at the price.
        let closed_j = if c == qj.abs() { qj } else { c.copysign(qj) };
        let realized_j = closed_j * (price - market.book.entry[k]);
        market.transfer(ledger, counterparty, Holder::Trader(k), realized_j);
        market.desk.recognised.resized(k, qj, qj - closed_j);
        market.shrink(k, closed_j);
        // So does the bankrupt position.
        let closed = if c == q.abs() { q } else { c.copysign(q) };
        let realized = closed * (price - market.book.entry[bankrupt]);
        market.transfer(ledger, counterparty, Holder::Trader(bankrupt), realized);
        *position_loss += market
            .desk
            .recognised
            .loss_on_close(bankrupt, closed, q, realized);
        market.shrink(bankrupt, closed);
        out.positions += 1;
        out.notional += c * mark;
    }
    out
}

/// A trader of the market in profit at the mark, with what socialization reads of it.
struct Profitable {
    at: usize,
    profit: f64,
    equity: f64,
    notional: f64,
}

/// The profitable traders of the bankrupt trader's market (any side) at `mark`.
fn profitable(market: &PerpMarket, bankrupt: usize, mark: f64) -> Vec<Profitable> {
    let book = &market.book;
    (0..book.len())
        .filter(|&k| k != bankrupt)
        .filter_map(|k| {
            let profit = book.unrealized_pnl(k, mark);
            let equity = book.equity(k, mark);
            (book.size[k] != 0.0 && profit > 0.0 && equity > 0.0).then(|| Profitable {
                at: k,
                profit,
                equity,
                notional: book.notional(k, mark),
            })
        })
        .collect()
}

/// Takes `haircuts[n]` from the `n`-th of `who` and hands it to the bankrupt account: each
/// hit trader's profit shrinks, its position stays open.
fn hand_over(
    market: &mut PerpMarket,
    ledger: &mut Ledger,
    bankrupt: usize,
    who: &[Profitable],
    haircuts: &[f64],
) -> Socialized {
    let mut out = Socialized::default();
    for (w, &h) in who.iter().zip(haircuts) {
        if h > 0.0 {
            market.transfer(ledger, Holder::Trader(w.at), Holder::Trader(bankrupt), h);
            market.reindex(w.at);
            out.covered += h;
            out.positions += 1;
        }
    }
    out
}

fn pro_rata(
    market: &mut PerpMarket,
    ledger: &mut Ledger,
    bankrupt: usize,
    residual: f64,
    mark: f64,
) -> Socialized {
    let who = profitable(market, bankrupt, mark);
    let total: f64 = who.iter().map(|w| w.profit).sum();
    if total <= 0.0 {
        return Socialized::default();
    }
    let share = (residual / total).min(1.0);
    let haircuts: Vec<f64> = who.iter().map(|w| w.profit * share).collect();
    hand_over(market, ledger, bankrupt, &who, &haircuts)
}

fn risk_based(
    market: &mut PerpMarket,
    ledger: &mut Ledger,
    bankrupt: usize,
    residual: f64,
    mark: f64,
) -> Socialized {
    let who = profitable(market, bankrupt, mark);
    if who.is_empty() {
        return Socialized::default();
    }
    let triples: Vec<(f64, f64, f64)> = who
        .iter()
        .map(|w| (w.profit, w.equity, w.notional))
        .collect();
    let haircuts = water_filling(&triples, residual);
    hand_over(market, ledger, bankrupt, &who, &haircuts)
}

/// The water-filling haircuts of [`LossSocialization::RiskBased`] for traders `(profit,
/// equity, notional)`: for a level `m`, `h_j(m) = clamp(E_j - m N_j, 0, profit_j)` lowers
/// every trader with more than `m` of margin to `m` (leverage `1/m`); the largest `m` whose
/// haircuts still cover the residual is found by bisection.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::perp::tests::{assert_balanced, market};
    use crate::protocol::{MarginParams, PositionBook};

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
        let (mut v, mut l) = market(book, MarginParams::new(0.02, 0.01).unwrap(), 0.0);
        v.book.size[0] = 0.0;
        let mark = 100.0;
        let r1 = adl_rank(1_000.0, -10.0, 110.0, mark).unwrap();
        let r2 = adl_rank(100.0, -10.0, 105.0, mark).unwrap();
        let r3 = adl_rank(5_000.0, -20.0, 102.0, mark).unwrap();
        assert!(r2 > r1 && r1 > r3, "{r1} {r2} {r3}");
        assert_eq!(adl_rank(1_000.0, -10.0, 95.0, mark), None);

        // Residual 120: trader 2 gives all 50, trader 1 gives 70 of its 100 (closing 70%).
        let s = LossSocialization::Adl.cover(&mut v, &mut l, 0, true, 120.0, mark);
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
        assert_balanced(&v, &l);
    }

    /// Past the first few counterparties (found by scans) the rest come from a heap: a
    /// residual that takes seven and a half of twelve shorts closes exactly the seven ranked
    /// highest in full and half of the eighth, as one ranking of all twelve says.
    #[test]
    fn adl_order_holds_past_the_scanned_counterparties() {
        let mut book = PositionBook::default();
        book.push(0.0, 1.0, 100.0); // 0: the bankrupt long
        let shorts: Vec<(f64, f64, f64)> = (0..12)
            .map(|k| {
                let k = k as f64;
                (
                    200.0 + 97.0 * ((k * 7.0) % 12.0),
                    -(1.0 + k % 5.0),
                    101.0 + 1.3 * k,
                )
            })
            .collect();
        for &(c, q, e) in &shorts {
            book.push(c, q, e);
        }
        let (mut v, mut l) = market(book, MarginParams::new(0.02, 0.01).unwrap(), 0.0);
        v.book.size[0] = 0.0;
        let mark = 100.0;
        let mut order: Vec<usize> = (0..12).collect();
        let rank = |k: usize| adl_rank(shorts[k].0, shorts[k].1, shorts[k].2, mark).unwrap();
        order.sort_by(|&a, &b| rank(b).total_cmp(&rank(a)));
        let profit = |k: usize| shorts[k].1 * (mark - shorts[k].2);
        let residual = order[..7].iter().map(|&k| profit(k)).sum::<f64>() + 0.5 * profit(order[7]);
        let s = LossSocialization::Adl.cover(&mut v, &mut l, 0, true, residual, mark);
        assert_eq!(s.positions, 8);
        for (place, &k) in order.iter().enumerate() {
            let size = v.book.size[k + 1];
            match place {
                0..7 => assert_eq!(size, 0.0, "rank {place}"),
                7 => assert!((size - 0.5 * shorts[k].1).abs() < 1e-9, "rank 7: {size}"),
                _ => assert_eq!(size, shorts[k].1, "rank {place}"),
            }
        }
        assert_balanced(&v, &l);
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
        let (mut v, mut l) = market(book, MarginParams::new(0.02, 0.01).unwrap(), 0.0);
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
        let s = LossSocialization::Adl.cover(&mut v, &mut l, 0, true, residual, mark);
        assert!((s.covered - residual).abs() < 1e-9);
        for j in [9, 7, 4] {
            assert_eq!(v.book.size[j], 0.0, "client {j}");
        }
        assert!((v.book.size[10] + 0.5).abs() < 1e-12);
        for j in [1, 5, 3, 6, 8, 2] {
            assert_eq!(v.book.size[j], -1.0, "client {j}");
        }
        assert_balanced(&v, &l);
    }

    /// Pro rata: everyone in profit gives the same share of it; the ledger balances.
    #[test]
    fn pro_rata_takes_the_same_share_of_every_profit() {
        let mut book = PositionBook::default();
        book.push(0.0, 0.0, 0.0);
        book.push(1_000.0, -10.0, 110.0); // profit 100
        book.push(1_000.0, 10.0, 80.0); // profit 200 (same side as the bankrupt: counts too)
        book.push(1_000.0, -10.0, 95.0); // losing
        let (mut v, mut l) = market(book, MarginParams::new(0.02, 0.01).unwrap(), 0.0);
        let s = LossSocialization::ProRata.cover(&mut v, &mut l, 0, true, 60.0, 100.0);
        assert!((s.covered - 60.0).abs() < 1e-12);
        assert!((v.book.collateral[1] - (1_000.0 - 20.0)).abs() < 1e-9);
        assert!((v.book.collateral[2] - (1_000.0 - 40.0)).abs() < 1e-9);
        assert_eq!(v.book.collateral[3], 1_000.0);
        assert_eq!(v.book.size[1], -10.0);
        assert_balanced(&v, &l);
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
        let (mut v, mut l) = market(book, MarginParams::new(0.02, 0.01).unwrap(), 0.0);
        let s = LossSocialization::Adl.cover(&mut v, &mut l, 0, true, 50.0, 100.0);
        assert!((s.covered - 10.0).abs() < 1e-12);
        assert_eq!(v.book.size[1], 0.0);
    }
}
