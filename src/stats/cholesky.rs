//! The Cholesky factor of a symmetric positive definite matrix, and the inverse through it:
//! for the correlation of several markets' shocks (MODEL.md section 4) and the covariance of
//! fitted parameters.
//!
//! Written here because no maintained pure-Rust decomposition works on the ndarray that
//! polars 0.55 pins (0.17): linfa-linalg 0.2.1 needs ndarray 0.16 (a second ndarray in the
//! build and conversions between the two), ndarray-linalg needs a LAPACK. The matrices are at
//! most a few markets or five parameters wide, so the textbook algorithm is the right size.

use ndarray::{Array2, ArrayView2};

/// Lower-triangular `L` with `L L' = a` (Cholesky-Banachiewicz, row by row); `None` unless
/// `a` is square and positive definite, with every pivot above `1e-12` times the largest
/// diagonal entry, so that a matrix singular up to rounding is refused too.
pub fn cholesky(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    if a.ncols() != n {
        return None;
    }
    let scale = a.diag().iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    // Row-major and sliced, so that each inner product runs over contiguous memory without
    // bounds checks, and rows taken a block at a time, column by column, so that a row `j`
    // read for one row of the block is in cache for the others (the whole factor no longer
    // streams through memory once per row: a correlation of 2,000 markets factors in a
    // fraction of a second, not one). Every entry's products are summed in the textbook
    // loop's order, so the factor's bits are unchanged.
    const BLOCK: usize = 16;
    let mut l = vec![0.0; n * n];
    for i0 in (0..n).step_by(BLOCK) {
        let i1 = (i0 + BLOCK).min(n);
        for j in 0..i1 {
            // Rows wholly below row j, four at a time: four sums, each in its own order, run
            // side by side (one sum's additions wait on each other; four fill the pipeline).
            let mut i = i0.max(j + 1);
            if j < i0 {
                while i + 4 <= i1 {
                    let s = dot4(&l, n, i, j);
                    for (r, s) in s.into_iter().enumerate() {
                        l[(i + r) * n + j] = (a[[i + r, j]] - s) / l[j * n + j];
                    }
                    i += 4;
                }
            } else {
                i = j;
            }
            // Ascending from the diagonal: row j's pivot is set before the rows under it.
            for i in i..i1 {
                let s: f64 = l[i * n..i * n + j]
                    .iter()
                    .zip(&l[j * n..j * n + j])
                    .map(|(x, y)| x * y)
                    .sum();
                if i == j {
                    let d = a[[i, i]] - s;
                    if d.is_nan() || d <= 1e-12 * scale.max(f64::MIN_POSITIVE) {
                        return None;
                    }
                    l[i * n + i] = d.sqrt();
                } else {
                    l[i * n + j] = (a[[i, j]] - s) / l[j * n + j];
                }
            }
        }
    }
    Array2::from_shape_vec((n, n), l).ok()
}

/// The sums `sum_k l[i + r][k] l[j][k]` over `k < j` for the four rows `i..i + 4` of the
/// row-major `l` (width `n`), each added in `k` order from -0.0 as `Iterator::sum` adds.
fn dot4(l: &[f64], n: usize, i: usize, j: usize) -> [f64; 4] {
    let row = &l[j * n..j * n + j];
    let (a, b, c, d) = (
        &l[i * n..i * n + j],
        &l[(i + 1) * n..(i + 1) * n + j],
        &l[(i + 2) * n..(i + 2) * n + j],
        &l[(i + 3) * n..(i + 3) * n + j],
    );
    let mut s = [-0.0; 4];
    for k in 0..j {
        let y = row[k];
        s[0] += a[k] * y;
        s[1] += b[k] * y;
        s[2] += c[k] * y;
        s[3] += d[k] * y;
    }
    s
}

/// `(L L')^{-1}` from the Cholesky factor `L`: `L^{-1}` by forward substitution, then
/// `L^{-T} L^{-1}`, symmetric by construction.
pub fn inverse_from_cholesky(l: &Array2<f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut inv_l = Array2::<f64>::zeros((n, n));
    for c in 0..n {
        for i in c..n {
            let unit = if i == c { 1.0 } else { 0.0 };
            let s: f64 = (c..i).map(|k| l[[i, k]] * inv_l[[k, c]]).sum();
            inv_l[[i, c]] = (unit - s) / l[[i, i]];
        }
    }
    inv_l.t().dot(&inv_l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_factor_rebuilds_the_matrix_and_the_inverse_is_one() {
        let a = array![[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 1.0]];
        let l = cholesky(a.view()).unwrap();
        assert!(l[[0, 1]] == 0.0 && l[[0, 2]] == 0.0 && l[[1, 2]] == 0.0);
        assert!((l.dot(&l.t()) - &a).iter().all(|d| d.abs() < 1e-14));
        let eye = a.dot(&inverse_from_cholesky(&l));
        assert!(
            (eye - Array2::<f64>::eye(3))
                .iter()
                .all(|d| d.abs() < 1e-13)
        );
    }

    /// The blocked factor is the textbook row-by-row loop's, bit for bit, across block
    /// edges (the correlated golden runs hold its bits).
    #[test]
    fn the_blocked_factor_is_the_textbook_one_bit_for_bit() {
        let n = 53;
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            if i == j {
                1.0
            } else {
                0.3 / (1.0 + (i as f64 - j as f64).abs()) + 0.01 * ((i * j) % 7) as f64 / 7.0
            }
        });
        let mut want = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| want[[i, k]] * want[[j, k]]).sum();
                want[[i, j]] = if i == j {
                    (a[[i, i]] - s).sqrt()
                } else {
                    (a[[i, j]] - s) / want[[j, j]]
                };
            }
        }
        let got = cholesky(a.view()).unwrap();
        assert!(
            got.iter()
                .zip(&want)
                .all(|(g, w)| g.to_bits() == w.to_bits())
        );
    }

    #[test]
    fn singular_indefinite_and_non_square_matrices_are_refused() {
        assert!(cholesky(array![[1.0, 1.0], [1.0, 1.0]].view()).is_none());
        assert!(cholesky(array![[1.0, 2.0], [2.0, 1.0]].view()).is_none());
        assert!(cholesky(array![[f64::NAN]].view()).is_none());
        assert!(cholesky(Array2::<f64>::zeros((2, 3)).view()).is_none());
    }
}
