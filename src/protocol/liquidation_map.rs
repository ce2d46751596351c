//! The liquidation map (MODEL.md section 3): how much open notional sits how far from its
//! liquidation, in fixed buckets of distance, by side.
//!
//! A perp position's distance is how far the mark must move against it, as a share of the
//! mark, before its margin falls to maintenance: `(M - M_liq) / M` for a long, `(M_liq - M) / M`
//! for a short, `M_liq` being [`MarginParams::liquidation_price`](super::MarginParams) (the
//! engine's own rule, tiers included). A loan's is how far the oracle must fall before its
//! health factor goes under 1: `1 - 1 / HF` ([`Loan::distance_to_liquidation`]
//! (super::lending::Loan)). A position already past its trigger (due, waiting for a keeper or
//! for the next step) has a negative distance and sits in [`DistanceBucket::Past`].

/// A bucket of distance to liquidation, in % of the price. Each holds its lower edge and not
/// its upper one, so a distance exactly on an edge belongs to the bucket above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DistanceBucket {
    /// Already past the trigger: liquidatable at this moment's price.
    Past,
    Pct0To1,
    Pct1To2,
    Pct2To3,
    Pct3To5,
    Pct5To7_5,
    Pct7_5To10,
    Pct10To15,
    Pct15To20,
    Pct20To30,
    Pct30To50,
    /// 50% and further (a long that no positive price liquidates is 100% away).
    Over50,
}

impl DistanceBucket {
    pub const COUNT: usize = 12;

    /// Every bucket, the closest to liquidation first.
    pub const ALL: [Self; Self::COUNT] = [
        Self::Past,
        Self::Pct0To1,
        Self::Pct1To2,
        Self::Pct2To3,
        Self::Pct3To5,
        Self::Pct5To7_5,
        Self::Pct7_5To10,
        Self::Pct10To15,
        Self::Pct15To20,
        Self::Pct20To30,
        Self::Pct30To50,
        Self::Over50,
    ];

    /// The lower and upper edges in % (`None`: unbounded).
    pub fn edges_pct(self) -> (Option<f64>, Option<f64>) {
        let (lo, hi) = match self {
            Self::Past => return (None, Some(0.0)),
            Self::Pct0To1 => (0.0, 1.0),
            Self::Pct1To2 => (1.0, 2.0),
            Self::Pct2To3 => (2.0, 3.0),
            Self::Pct3To5 => (3.0, 5.0),
            Self::Pct5To7_5 => (5.0, 7.5),
            Self::Pct7_5To10 => (7.5, 10.0),
            Self::Pct10To15 => (10.0, 15.0),
            Self::Pct15To20 => (15.0, 20.0),
            Self::Pct20To30 => (20.0, 30.0),
            Self::Pct30To50 => (30.0, 50.0),
            Self::Over50 => return (Some(50.0), None),
        };
        (Some(lo), Some(hi))
    }

    /// The bucket of edges `(lo, hi)` in %, as [`DistanceBucket::edges_pct`] gives them.
    pub fn from_edges_pct(lo: Option<f64>, hi: Option<f64>) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.edges_pct() == (lo, hi))
    }

    /// The bucket of a distance given as a share of the price (0.01 is 1%). Not a number
    /// counts as past: a position whose distance cannot be told is not far from liquidation.
    pub fn of(distance: f64) -> Self {
        if distance.is_nan() || distance < 0.0 {
            return Self::Past;
        }
        Self::ALL
            .into_iter()
            .rev()
            .find(|b| b.edges_pct().0.is_some_and(|lo| distance >= lo / 100.0))
            .unwrap_or(Self::Pct0To1)
    }

    /// As a reader writes it: `0-1%`, `7.5-10%`, `>50%`, `past (<0%)`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Past => "past (<0%)",
            Self::Pct0To1 => "0-1%",
            Self::Pct1To2 => "1-2%",
            Self::Pct2To3 => "2-3%",
            Self::Pct3To5 => "3-5%",
            Self::Pct5To7_5 => "5-7.5%",
            Self::Pct7_5To10 => "7.5-10%",
            Self::Pct10To15 => "10-15%",
            Self::Pct15To20 => "15-20%",
            Self::Pct20To30 => "20-30%",
            Self::Pct30To50 => "30-50%",
            Self::Over50 => ">50%",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which way a position loses: a perp long loses when the mark falls, a short when it rises;
/// a loan when its collateral's oracle falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExposureSide {
    Long,
    Short,
    /// A lending market's loans, on the collateral's side.
    Collateral,
}

impl ExposureSide {
    pub const ALL: [Self; 3] = [Self::Long, Self::Short, Self::Collateral];

    pub fn label(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Short => "short",
            Self::Collateral => "collateral",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.label() == label)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Notional and number of positions in one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// USD: a perp position's notional at the mark, a loan's debt.
    pub notional: f64,
    pub positions: u32,
}

/// One market's open positions at one moment, by side and distance to liquidation.
#[derive(Clone, Debug, PartialEq)]
pub struct LiquidationMap {
    /// The sides this market's positions can take, in order.
    sides: &'static [ExposureSide],
    tallies: [[Tally; DistanceBucket::COUNT]; 3],
}

impl LiquidationMap {
    /// An empty map of a market whose positions take `sides`.
    pub fn new(sides: &'static [ExposureSide]) -> Self {
        Self {
            sides,
            tallies: [[Tally::default(); DistanceBucket::COUNT]; 3],
        }
    }

    /// Counts a position of `notional` USD on `side`, `distance` (a share of the price) from
    /// its liquidation.
    pub fn add(&mut self, side: ExposureSide, distance: f64, notional: f64) {
        let t = &mut self.tallies[side.index()][DistanceBucket::of(distance).index()];
        t.notional += notional;
        t.positions += 1;
    }

    pub fn sides(&self) -> &'static [ExposureSide] {
        self.sides
    }

    pub fn get(&self, side: ExposureSide, bucket: DistanceBucket) -> Tally {
        self.tallies[side.index()][bucket.index()]
    }

    /// The notional of every position on the map: the market's open interest at that moment.
    pub fn total(&self) -> f64 {
        self.sides
            .iter()
            .flat_map(|&s| DistanceBucket::ALL.map(|b| self.get(s, b).notional))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::lending::aave::AaveRules;
    use crate::protocol::lending::oracle::PushOracle;
    use crate::protocol::lending::{LendingMarket, LendingStyle, LendingTerms, Loan};
    use crate::protocol::{MarginParams, Market, PerpMarket, PositionBook};

    /// The buckets tile the line: every edge starts the bucket above it, and the labels
    /// read the edges.
    #[test]
    fn buckets_hold_their_lower_edge() {
        assert_eq!(DistanceBucket::of(-1e-12), DistanceBucket::Past);
        assert_eq!(DistanceBucket::of(f64::NEG_INFINITY), DistanceBucket::Past);
        assert_eq!(DistanceBucket::of(f64::NAN), DistanceBucket::Past);
        assert_eq!(DistanceBucket::of(0.0), DistanceBucket::Pct0To1);
        assert_eq!(DistanceBucket::of(0.0099), DistanceBucket::Pct0To1);
        assert_eq!(DistanceBucket::of(0.075), DistanceBucket::Pct7_5To10);
        assert_eq!(DistanceBucket::of(0.5), DistanceBucket::Over50);
        assert_eq!(DistanceBucket::of(f64::INFINITY), DistanceBucket::Over50);
        for pair in DistanceBucket::ALL.windows(2) {
            let (lo, hi) = (pair[0].edges_pct(), pair[1].edges_pct());
            assert_eq!(lo.1, hi.0, "{pair:?} meet");
            let edge = hi.0.unwrap() / 100.0;
            assert_eq!(
                DistanceBucket::of(edge),
                pair[1],
                "{edge} is in the bucket above"
            );
            assert_eq!(
                DistanceBucket::from_edges_pct(hi.0, hi.1),
                Some(pair[1]),
                "{pair:?}"
            );
        }
        assert_eq!(DistanceBucket::Pct5To7_5.label(), "5-7.5%");
        assert_eq!(DistanceBucket::from_edges_pct(Some(4.0), Some(5.0)), None);
    }

    /// Hand-built perp positions at a mark of 100 under mmr 25% (so `1 - mmr` is exact):
    /// a long of 1 entered at 100 with collateral `c` is liquidated at `(100 - c) / 0.75`,
    /// a short of 1 at `(c + 100) / 1.25`.
    #[test]
    fn perp_positions_fall_in_the_bucket_of_their_distance() {
        let mut book = PositionBook::default();
        // Long, liquidated at 99: exactly 1% away, on the edge of 1-2%.
        book.push(25.75, 1.0, 100.0);
        // Long, liquidated at 96: 4% away.
        book.push(28.0, 1.0, 100.0);
        // Short of 2, liquidated at 107.5: exactly 7.5% away, on the edge of 7.5-10%.
        book.push(2.0 * 7.5 * 1.25 + 2.0 * 25.0, -2.0, 100.0);
        // Short liquidated at 100 + 0.5: 0.5% away.
        book.push(25.625, -1.0, 100.0);
        // A long no positive price liquidates: 100% away.
        book.push(100.0, 1.0, 100.0);
        // Flat: not on the map.
        book.push(50.0, 0.0, 0.0);
        let margin = MarginParams::new(0.5, 0.25).unwrap();
        let market: Market = PerpMarket::open(book, margin.clone(), 0, 0).into();
        assert_eq!(margin.liquidation_price(25.75, 1.0, 100.0), Some(99.0));
        assert_eq!(
            margin.distance_to_liquidation(25.75, 1.0, 100.0, 100.0),
            Some(0.01)
        );
        assert_eq!(margin.distance_to_liquidation(50.0, 0.0, 0.0, 100.0), None);

        let map = market.liquidation_map(100.0);
        assert_eq!(map.sides(), &[ExposureSide::Long, ExposureSide::Short]);
        let at = |side, bucket| map.get(side, bucket);
        use DistanceBucket::*;
        use ExposureSide::*;
        assert_eq!(
            at(Long, Pct1To2),
            Tally {
                notional: 100.0,
                positions: 1
            }
        );
        assert_eq!(at(Long, Pct0To1), Tally::default());
        assert_eq!(at(Long, Pct3To5).positions, 1);
        assert_eq!(at(Long, Over50).positions, 1);
        assert_eq!(
            at(Short, Pct7_5To10),
            Tally {
                notional: 200.0,
                positions: 1
            }
        );
        assert_eq!(at(Short, Pct5To7_5), Tally::default());
        assert_eq!(at(Short, Pct0To1).positions, 1);
        // Every open position once, at its notional: the open interest.
        assert_eq!(map.total(), 600.0);

        // The mark falls to 98.5: the first long is past its trigger, the short further away.
        let map = market.liquidation_map(98.5);
        assert_eq!(map.get(Long, Past).positions, 1);
        assert_eq!(map.get(Short, Pct0To1), Tally::default());
        assert_eq!(map.get(Short, Pct2To3).positions, 1);
    }

    /// Loans at an oracle of 100 with LT 0.5: a health factor of 2 is exactly 50% away (the
    /// edge of >50%), 4/3 is 25% away, under 1 is past; a loan without debt is not on the map.
    #[test]
    fn loans_fall_in_the_bucket_of_their_distance() {
        let loan = |collateral, debt| Loan { collateral, debt };
        assert_eq!(loan(1.0, 25.0).distance_to_liquidation(100.0, 0.5), 0.5);
        let terms = LendingTerms::new(
            LendingStyle::Aave(AaveRules::new(0.5, 0.05, 0.10).unwrap()),
            PushOracle::new(0.0, 3_600.0, 0.0).unwrap(),
            0.0,
            0.0,
        )
        .unwrap();
        let loans = [
            loan(1.0, 25.0),
            loan(1.0, 37.5),
            loan(1.0, 60.0),
            loan(1.0, 0.0),
        ];
        let market: Market = LendingMarket::open(&loans, terms, 100.0, 0, 0, 60.0).into();
        // The mark passed in is not what a lending market reads: its oracle is.
        let map = market.liquidation_map(1.0);
        use DistanceBucket::*;
        let side = ExposureSide::Collateral;
        assert_eq!(map.sides(), &[side]);
        assert_eq!(
            map.get(side, Over50),
            Tally {
                notional: 25.0,
                positions: 1
            }
        );
        assert_eq!(
            map.get(side, Pct20To30),
            Tally {
                notional: 37.5,
                positions: 1
            }
        );
        assert_eq!(
            map.get(side, Past),
            Tally {
                notional: 60.0,
                positions: 1
            }
        );
        assert_eq!(map.total(), 122.5);
        assert_eq!(map.get(ExposureSide::Long, Over50), Tally::default());
    }
}
