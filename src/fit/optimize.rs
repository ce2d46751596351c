//! The fits' numerical tools: Nelder-Mead (argmin's), a central-difference Hessian and the
//! covariance of estimates from it (ndarray matrices, inverted through the Cholesky factor).
//!
//! A solver only computes, as in argmin: what to do with its answer is the caller's business.

use std::cell::RefCell;

use argmin::core::{CostFunction, Error, Executor, State, TerminationReason};
use argmin::solver::neldermead::NelderMead;
use ndarray::Array2;

use crate::stats::{cholesky, inverse_from_cholesky};

/// Where Nelder-Mead stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    /// Nelder-Mead iterations over all restarts.
    pub iterations: u64,
    /// The simplex's values agreed within the tolerance before the iteration budget ran out.
    pub converged: bool,
}

/// A closure as an argmin cost function. Non-finite values count as +infinity, so `f` can
/// refuse a point by returning NaN or infinity (argmin orders the simplex with
/// `partial_cmp`, which a NaN would leave unsorted).
struct Objective<'a, F>(&'a RefCell<F>);

impl<F: FnMut(&[f64]) -> f64> CostFunction for Objective<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        let v = (self.0.borrow_mut())(x);
        Ok(if v.is_finite() { v } else { f64::INFINITY })
    }
}

/// Minimizes `f` from `start` with argmin's Nelder-Mead, initial simplex steps `step` (one
/// per coordinate), at most `max_iterations` iterations in all. It stops when the standard
/// deviation of the simplex's values falls below `1e-12 (1 + |f(start)|)`, then restarts from
/// the best point until a restart no longer improves it, which guards against a simplex that
/// collapsed along a ridge. The expansion and shrink coefficients adapt to the dimension
/// (Gao and Han 2012, "Implementing the Nelder-Mead simplex algorithm with adaptive
/// parameters"); argmin caps the contraction at 1/2.
pub fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    f: F,
    start: &[f64],
    step: &[f64],
    max_iterations: u64,
) -> Minimum {
    let f = RefCell::new(f);
    let at_start = Objective(&f).cost(&start.to_vec()).unwrap_or(f64::INFINITY);
    let tolerance = 1e-12
        * (1.0
            + if at_start.is_finite() {
                at_start.abs()
            } else {
                0.0
            });
    let mut best = Minimum {
        x: start.to_vec(),
        value: at_start,
        iterations: 0,
        converged: false,
    };
    for _ in 0..6 {
        if best.iterations >= max_iterations {
            break;
        }
        let budget = max_iterations - best.iterations;
        let Some(again) = simplex_search(&f, &best.x, step, tolerance, budget) else {
            break;
        };
        let improved = again.value < best.value - 1e-10 * (1.0 + best.value.abs());
        let iterations = best.iterations + again.iterations;
        if again.value <= best.value {
            best = again;
        }
        best.iterations = iterations;
        if !improved {
            break;
        }
    }
    best
}

/// One run of argmin's Nelder-Mead from the simplex `start + step_i e_i`; `None` when argmin
/// refuses its configuration (a dimension of 0).
fn simplex_search<F: FnMut(&[f64]) -> f64>(
    f: &RefCell<F>,
    start: &[f64],
    step: &[f64],
    tolerance: f64,
    max_iterations: u64,
) -> Option<Minimum> {
    let n = start.len();
    let simplex: Vec<Vec<f64>> = (0..=n)
        .map(|i| {
            let mut p = start.to_vec();
            if i > 0 {
                p[i - 1] += step[i - 1];
            }
            p
        })
        .collect();
    // Gao and Han's coefficients; at n = 1 they would shrink to a point, so from n = 2 up.
    let nf = n.max(2) as f64;
    let solver = NelderMead::new(simplex)
        .with_gamma(1.0 + 2.0 / nf)
        .and_then(|s| s.with_sigma(1.0 - 1.0 / nf))
        .and_then(|s| s.with_sd_tolerance(tolerance))
        .ok()?;
    let result = Executor::new(Objective(f), solver)
        .configure(|state| state.max_iters(max_iterations))
        .timer(false)
        .run()
        .ok()?;
    let state = result.state();
    Some(Minimum {
        x: state.get_best_param()?.clone(),
        value: state.get_best_cost(),
        iterations: state.get_iter(),
        converged: state.get_termination_reason() == Some(&TerminationReason::SolverConverged),
    })
}

/// Hessian of `f` at `x` by central differences with steps `h` (one per coordinate). The
/// fits need steps scaled to each parameter, which finitediff's fixed-step Hessians do not
/// offer, so the four-point stencil is written here.
pub fn hessian<F: FnMut(&[f64]) -> f64>(mut f: F, x: &[f64], h: &[f64]) -> Array2<f64> {
    let n = x.len();
    let mut at = |d: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in d {
            y[i] += s;
        }
        f(&y)
    };
    let f0 = at(&[]);
    let mut hess = Array2::zeros((n, n));
    for i in 0..n {
        let fp = at(&[(i, h[i])]);
        let fm = at(&[(i, -h[i])]);
        hess[[i, i]] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let pp = at(&[(i, h[i]), (j, h[j])]);
            let pm = at(&[(i, h[i]), (j, -h[j])]);
            let mp = at(&[(i, -h[i]), (j, h[j])]);
            let mm = at(&[(i, -h[i]), (j, -h[j])]);
            let v = (pp - pm - mp + mm) / (4.0 * h[i] * h[j]);
            hess[[i, j]] = v;
            hess[[j, i]] = v;
        }
    }
    hess
}

/// The covariance of maximum-likelihood estimates: the inverse of the Hessian of `-log L`.
/// `None` unless the Hessian is positive definite (at a minimum of `-log L` it is; when it
/// is not, the fit did not reach one and no standard error means anything).
pub fn covariance(hessian: &Array2<f64>) -> Option<Array2<f64>> {
    let cov = inverse_from_cholesky(&cholesky(hessian.view())?);
    cov.iter().all(|v| v.is_finite()).then_some(cov)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn nelder_mead_finds_the_rosenbrock_minimum() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(rosen, &[-1.2, 1.0], &[0.1, 0.1], 10_000);
        assert!(m.converged);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }

    #[test]
    fn nelder_mead_steps_around_points_it_is_refused() {
        // f refuses x < 0 with NaN; the minimum of (x - 1)^2 on x >= 0 is still found.
        let f = |x: &[f64]| {
            if x[0] < 0.0 {
                f64::NAN
            } else {
                (x[0] - 1.0).powi(2)
            }
        };
        let m = nelder_mead(f, &[0.1], &[0.5], 1_000);
        assert!((m.x[0] - 1.0).abs() < 1e-5, "{m:?}");
    }

    #[test]
    fn hessian_and_covariance_of_a_quadratic_are_exact() {
        // f = 1/2 x' A x with A = [[4, 1], [1, 3]]: the Hessian is A, its inverse is known.
        let f = |x: &[f64]| 0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]);
        let h = hessian(f, &[0.3, -0.2], &[1e-3, 1e-3]);
        let cov = covariance(&h).unwrap();
        let expect = array![[3.0 / 11.0, -1.0 / 11.0], [-1.0 / 11.0, 4.0 / 11.0]];
        assert!((&cov - &expect).iter().all(|d| d.abs() < 1e-6), "{cov:?}");
        // Singular, and indefinite: no covariance.
        assert!(covariance(&array![[1.0, 2.0], [2.0, 4.0]]).is_none());
        assert!(covariance(&array![[1.0, 0.0], [0.0, -1.0]]).is_none());
    }
}
