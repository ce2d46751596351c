//! Small numerical tools for the fits: a Nelder-Mead minimizer, a finite-difference Hessian,
//! the inverse of a small symmetric matrix, and `ln Gamma`.
//!
//! The fits have at most five parameters, so dense textbook methods are the right size; a
//! solver only computes (as in argmin): what to do with its answer is the caller's business.

/// Where Nelder-Mead stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
    /// The simplex shrank below the tolerances before the evaluation budget ran out.
    pub converged: bool,
}

/// Minimizes `f` from `start` with Nelder-Mead (adaptive coefficients of Gao and Han 2012),
/// initial simplex steps `step` (one per coordinate). Non-finite values count as +infinity,
/// so `f` can refuse a point by returning NaN or infinity. Restarts from the best point
/// until a restart no longer improves it, which guards against a collapsed simplex.
pub fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    start: &[f64],
    step: &[f64],
    max_evaluations: usize,
) -> Minimum {
    let mut best = simplex_search(&mut f, start, step, max_evaluations);
    let mut evaluations = best.evaluations;
    for _ in 0..5 {
        if evaluations >= max_evaluations {
            break;
        }
        let again = simplex_search(&mut f, &best.x, step, max_evaluations - evaluations);
        evaluations += again.evaluations;
        let improved = again.value < best.value - 1e-10 * (1.0 + best.value.abs());
        if again.value <= best.value {
            best = Minimum {
                evaluations,
                ..again
            };
        }
        if !improved {
            break;
        }
    }
    best.evaluations = evaluations;
    best
}

fn simplex_search<F: FnMut(&[f64]) -> f64>(
    f: &mut F,
    start: &[f64],
    step: &[f64],
    max_evaluations: usize,
) -> Minimum {
    let n = start.len();
    let nf = n as f64;
    let (alpha, gamma) = (1.0, 1.0 + 2.0 / nf);
    let (rho, sigma) = (0.75 - 0.5 / nf, 1.0 - 1.0 / nf);
    let mut eval = |x: &[f64], count: &mut usize| {
        *count += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut count = 0;
    let mut pts: Vec<Vec<f64>> = (0..=n)
        .map(|i| {
            let mut p = start.to_vec();
            if i > 0 {
                p[i - 1] += step[i - 1];
            }
            p
        })
        .collect();
    let mut vals: Vec<f64> = pts.iter().map(|p| eval(p, &mut count)).collect();
    let mut converged = false;
    while count < max_evaluations {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        pts = order.iter().map(|&i| pts[i].clone()).collect();
        vals = order.iter().map(|&i| vals[i]).collect();
        let spread = (vals[n] - vals[0]).abs();
        let size = (1..=n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| (pts[i][j] - pts[0][j]).abs())
            .fold(0.0, f64::max);
        if spread <= 1e-12 * (1.0 + vals[0].abs()) && size <= 1e-9 {
            converged = true;
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| pts[..n].iter().map(|p| p[j]).sum::<f64>() / nf)
            .collect();
        let towards = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (pts[n][j] - centroid[j]))
                .collect()
        };
        let xr = towards(-alpha);
        let fr = eval(&xr, &mut count);
        if fr < vals[0] {
            let xe = towards(-alpha * gamma);
            let fe = eval(&xe, &mut count);
            if fe < fr {
                (pts[n], vals[n]) = (xe, fe);
            } else {
                (pts[n], vals[n]) = (xr, fr);
            }
            continue;
        }
        if fr < vals[n - 1] {
            (pts[n], vals[n]) = (xr, fr);
            continue;
        }
        let (xc, fc) = if fr < vals[n] {
            let xc = towards(-alpha * rho);
            let fc = eval(&xc, &mut count);
            (xc, fc)
        } else {
            let xc = towards(rho);
            let fc = eval(&xc, &mut count);
            (xc, fc)
        };
        if fc < vals[n].min(fr) {
            (pts[n], vals[n]) = (xc, fc);
            continue;
        }
        // Shrink towards the best point.
        let best = pts[0].clone();
        for i in 1..=n {
            for (x, b) in pts[i].iter_mut().zip(&best) {
                *x = b + sigma * (*x - b);
            }
            vals[i] = eval(&pts[i].clone(), &mut count);
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    Minimum {
        x: pts[best].clone(),
        value: vals[best],
        evaluations: count,
        converged,
    }
}

/// Hessian of `f` at `x` by central differences with steps `h` (one per coordinate).
pub fn hessian<F: FnMut(&[f64]) -> f64>(mut f: F, x: &[f64], h: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut at = |d: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in d {
            y[i] += s;
        }
        f(&y)
    };
    let f0 = at(&[]);
    let mut hess = vec![vec![0.0; n]; n];
    for i in 0..n {
        let fp = at(&[(i, h[i])]);
        let fm = at(&[(i, -h[i])]);
        hess[i][i] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let pp = at(&[(i, h[i]), (j, h[j])]);
            let pm = at(&[(i, h[i]), (j, -h[j])]);
            let mp = at(&[(i, -h[i]), (j, h[j])]);
            let mm = at(&[(i, -h[i]), (j, -h[j])]);
            let v = (pp - pm - mp + mm) / (4.0 * h[i] * h[j]);
            hess[i][j] = v;
            hess[j][i] = v;
        }
    }
    hess
}

/// Inverse of a small square matrix by Gauss-Jordan elimination with partial pivoting;
/// `None` when it is singular (or not finite).
pub fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    let scale = m
        .iter()
        .flatten()
        .fold(0.0_f64, |s, v| s.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..n {
        let pivot = (col..n).max_by(|&a_, &b_| a[a_][col].abs().total_cmp(&a[b_][col].abs()))?;
        let size = a[pivot][col].abs();
        if size.is_nan() || size <= 1e-14 * scale {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        for v in a[col].iter_mut() {
            *v /= p;
        }
        for r in 0..n {
            if r != col {
                let factor = a[r][col];
                if factor != 0.0 {
                    let pivot_row = a[col].clone();
                    for (x, p) in a[r].iter_mut().zip(&pivot_row) {
                        *x -= factor * p;
                    }
                }
            }
        }
    }
    let inv: Vec<Vec<f64>> = a.into_iter().map(|r| r[n..].to_vec()).collect();
    inv.iter().flatten().all(|v| v.is_finite()).then_some(inv)
}

/// `ln Gamma(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut fact = 1.0_f64;
        for n in 1..20 {
            // Gamma(n) = (n - 1)!
            assert!((ln_gamma(n as f64) - fact.ln()).abs() < 1e-12, "n = {n}");
            fact *= n as f64;
        }
        let sqrt_pi = std::f64::consts::PI.sqrt();
        assert!((ln_gamma(0.5) - sqrt_pi.ln()).abs() < 1e-13);
        assert!((ln_gamma(2.5) - (0.75 * sqrt_pi).ln()).abs() < 1e-13);
    }

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
    fn hessian_and_inverse_of_a_quadratic_are_exact() {
        // f = 1/2 x' A x with A = [[4, 1], [1, 3]]: the Hessian is A, its inverse is known.
        let f = |x: &[f64]| 0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]);
        let h = hessian(f, &[0.3, -0.2], &[1e-3, 1e-3]);
        let inv = invert(&h).unwrap();
        let expect = [[3.0 / 11.0, -1.0 / 11.0], [-1.0 / 11.0, 4.0 / 11.0]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((inv[i][j] - expect[i][j]).abs() < 1e-6, "{inv:?}");
            }
        }
        assert!(invert(&[vec![1.0, 2.0], vec![2.0, 4.0]]).is_none());
    }
}
