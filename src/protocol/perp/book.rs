//! Traders' accounts as a struct of arrays: the hot loops read one or two fields of many
//! traders, so each field is its own contiguous vector.

/// Collateral, signed position and average entry of every trader of one market.
#[derive(Clone, Debug, Default)]
pub struct PositionBook {
    /// Collateral (USD): deposits plus realized PnL, minus fees and penalties.
    pub collateral: Vec<f64>,
    /// Signed position in base units: > 0 long, < 0 short, 0 flat.
    pub size: Vec<f64>,
    /// Average entry price of the open position.
    pub entry: Vec<f64>,
    /// Bumped whenever the position or collateral changes, so that stale queue entries are
    /// recognized and skipped.
    pub version: Vec<u32>,
}

impl PositionBook {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            collateral: Vec::with_capacity(n),
            size: Vec::with_capacity(n),
            entry: Vec::with_capacity(n),
            version: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.size.len()
    }

    pub fn is_empty(&self) -> bool {
        self.size.is_empty()
    }

    /// Adds a trader with `collateral` and an open position; returns its id.
    pub fn push(&mut self, collateral: f64, size: f64, entry: f64) -> u32 {
        self.collateral.push(collateral);
        self.size.push(size);
        self.entry.push(entry);
        self.version.push(0);
        (self.size.len() - 1) as u32
    }

    /// `E = C + q (P - e)`.
    #[inline]
    pub fn equity(&self, i: usize, price: f64) -> f64 {
        self.collateral[i] + self.size[i] * (price - self.entry[i])
    }

    /// Unrealized PnL `q (P - e)`.
    #[inline]
    pub fn unrealized_pnl(&self, i: usize, price: f64) -> f64 {
        self.size[i] * (price - self.entry[i])
    }

    /// `N = |q| P`.
    #[inline]
    pub fn notional(&self, i: usize, price: f64) -> f64 {
        self.size[i].abs() * price
    }

    /// `E / N`, the margin ratio that orders liquidations (lowest first). Flat: infinite.
    #[inline]
    pub fn margin_ratio(&self, i: usize, price: f64) -> f64 {
        let n = self.notional(i, price);
        if n > 0.0 {
            self.equity(i, price) / n
        } else {
            f64::INFINITY
        }
    }

    /// Orders `ids` worst margin ratio at `price` first, ties by trader id (the processing
    /// order of MODEL.md section 4). Each ratio is computed once; `keys` is scratch space.
    pub fn sort_worst_margin_first(&self, ids: &mut [u32], price: f64, keys: &mut Vec<(f64, u32)>) {
        keys.clear();
        keys.extend(
            ids.iter()
                .map(|&i| (self.margin_ratio(i as usize, price), i)),
        );
        keys.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (slot, &(_, i)) in ids.iter_mut().zip(keys.iter()) {
            *slot = i;
        }
    }

    /// Sum of all collateral, for the ledger.
    pub fn total_collateral(&self) -> f64 {
        self.collateral.iter().sum()
    }
}
