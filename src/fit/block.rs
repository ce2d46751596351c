//! The mean block length of a stationary block bootstrap of bars (Politis and Romano 1994),
//! chosen by Politis and White's automatic rule (2004, with the correction of Patton, Politis
//! and White 2009). Blocks are there to keep what one bar says about the next: in BTC the
//! returns' own autocorrelation is about nil, but their size clusters, so the rule is applied
//! to absolute returns, whose dependence lasts longest.

use super::FitError;

/// The chosen mean block length and what it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockChoice {
    /// Mean block length, in bars (at least 1).
    pub mean_block: f64,
    /// Lags of significant autocorrelation the rule found (`m` in Politis and White).
    pub significant_lags: usize,
    /// The rule's answer on the signed returns, for comparison: near 1 when returns are
    /// uncorrelated, as BTC's are.
    pub of_signed_returns: f64,
    pub observations: usize,
}

/// Sample autocorrelations of `x` at lags `0..=max_lag`.
fn autocorrelations(x: &[f64], max_lag: usize) -> Vec<f64> {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let c0 = d.iter().map(|v| v * v).sum::<f64>() / n as f64;
    (0..=max_lag)
        .map(|k| {
            d[..n - k]
                .iter()
                .zip(&d[k..])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / n as f64
                / c0
        })
        .collect()
}

/// Politis and White's flat-top kernel.
fn flat_top(t: f64) -> f64 {
    let t = t.abs();
    if t <= 0.5 {
        1.0
    } else if t <= 1.0 {
        2.0 * (1.0 - t)
    } else {
        0.0
    }
}

/// The stationary bootstrap's optimal mean block `b = (2 G^2 / D)^(1/3) n^(1/3)`, with
/// `G = sum lambda(k/M) |k| R(k)` and `D = 2 g(0)^2`, `g(0) = sum lambda(k/M) R(k)` over
/// `|k| <= M = 2 m`, `m` the first lag after which `K_n = max(5, sqrt(log10 n))` lags in a
/// row have `|rho| < 2 sqrt(log10(n) / n)`. Applied to `|r|`.
pub fn mean_block_length(returns: &[f64]) -> Result<BlockChoice, FitError> {
    let n = returns.len();
    if n < 100 {
        return Err(FitError::new(
            "data",
            format!("the block rule needs at least 100 returns, the window holds {n}"),
        ));
    }
    let x: Vec<f64> = returns.iter().map(|r| r.abs()).collect();
    let (mean_block, significant_lags) = politis_white(&x)?;
    Ok(BlockChoice {
        mean_block,
        significant_lags,
        of_signed_returns: politis_white(returns)?.0,
        observations: n,
    })
}

/// Politis and White's rule on one series: the mean block and the lags `m`.
fn politis_white(x: &[f64]) -> Result<(f64, usize), FitError> {
    let n = x.len();
    let nf = n as f64;
    let k_n = 5usize.max(nf.log10().sqrt().ceil() as usize);
    let max_lag = (n / 2).min(2 * (nf.sqrt().ceil() as usize) + k_n + 1);
    let rho = autocorrelations(x, max_lag);
    if !rho[0].is_finite() {
        return Err(FitError::new("data", "the returns have no variance"));
    }
    let bound = 2.0 * (nf.log10() / nf).sqrt();
    let limit = max_lag - k_n;
    let m = (0..limit)
        .find(|&m| (1..=k_n).all(|k| rho[m + k].abs() < bound))
        .unwrap_or(limit);
    let big_m = (2 * m).clamp(1, max_lag);
    let mut g = 0.0;
    let mut g0 = rho[0];
    for (k, r) in rho.iter().enumerate().take(big_m + 1).skip(1) {
        let w = flat_top(k as f64 / big_m as f64);
        g += 2.0 * w * k as f64 * r;
        g0 += 2.0 * w * r;
    }
    let d = 2.0 * g0 * g0;
    let b = if d > 0.0 && g != 0.0 {
        (2.0 * g * g / d).cbrt() * nf.cbrt()
    } else {
        1.0
    };
    Ok((b.clamp(1.0, nf / 3.0), m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    /// Independent returns need no blocks; returns whose size follows a persistent AR(1)
    /// need long ones, and longer the more persistent.
    #[test]
    fn blocks_grow_with_the_persistence_of_volatility() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut draw = |phi: f64| -> Vec<f64> {
            let mut log_vol = 0.0;
            (0..8000)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    let w: f64 = StandardNormal.sample(&mut rng);
                    log_vol = phi * log_vol + 0.5 * w;
                    log_vol.exp() * z
                })
                .collect()
        };
        let iid = mean_block_length(&draw(0.0)).unwrap();
        let some = mean_block_length(&draw(0.9)).unwrap();
        let much = mean_block_length(&draw(0.99)).unwrap();
        assert!(iid.mean_block < 3.0, "{iid:?}");
        assert!(
            some.mean_block > iid.mean_block && much.mean_block > some.mean_block,
            "{some:?} {much:?}"
        );
    }
}
