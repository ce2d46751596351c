//! Statistics behind MODEL.md section 9: mergeable moments, Wilson intervals, empirical
//! quantiles with distribution-free confidence bounds, and expected shortfall with its
//! standard error; and the Cholesky factor of correlation and Hessian matrices. Each helper
//! is unit-tested against values computed by hand or by a reference formula.

mod binomial;
mod cholesky;
mod moments;
mod normal;
mod quantile;

pub use binomial::{binomial_cdf, first_binomial_rank, wilson, wilson_of};
pub use cholesky::{cholesky, inverse_from_cholesky};
pub use moments::{Moments, SampleMoments};
pub use normal::{Z95, normal_cdf};
pub use quantile::{
    QuantileEstimate, SortedSample, TailEstimate, expected_shortfall, quantile_sorted,
    quantile_with_bounds, upper_bound_rank,
};
