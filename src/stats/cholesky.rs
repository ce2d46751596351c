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
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let d = a[[i, i]] - s;
                if d.is_nan() || d <= 1e-12 * scale.max(f64::MIN_POSITIVE) {
                    return None;
                }
                l[[i, i]] = d.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    Some(l)
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

    #[test]
    fn singular_indefinite_and_non_square_matrices_are_refused() {
        assert!(cholesky(array![[1.0, 1.0], [1.0, 1.0]].view()).is_none());
        assert!(cholesky(array![[1.0, 2.0], [2.0, 1.0]].view()).is_none());
        assert!(cholesky(array![[f64::NAN]].view()).is_none());
        assert!(cholesky(Array2::<f64>::zeros((2, 3)).view()).is_none());
    }
}
