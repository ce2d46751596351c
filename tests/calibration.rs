//! The calibration identity of MODEL.md section 5: without a cap, and while nothing before
//! depletion depends on the fund, a run depletes a fund of size F0 exactly when its required
//! capital exceeds F0. Checked run by run, on the same seeds, for several F0.

mod common;

use backstop::stats::quantile_sorted;

#[test]
fn required_capital_predicts_depletion_run_by_run() {
    let seeds = 400;
    // Required capital from runs whose fund never runs dry.
    let big = common::parse(&common::stressed(seeds, 1e12, ""));
    let reference = common::run(&big, 2);
    assert!(reference.rows.iter().all(|r| !r.depleted));
    let mut r: Vec<f64> = reference.rows.iter().map(|r| r.required_capital).collect();
    r.sort_by(f64::total_cmp);
    let positive = r.iter().filter(|&&x| x > 0.0).count();
    assert!(
        positive > seeds as usize / 10,
        "too few runs with deficits to test anything: {positive}"
    );

    // Fund sizes spread across the distribution of R, plus zero.
    let funds: Vec<f64> = [0.5, 0.7, 0.8, 0.9, 0.97]
        .iter()
        .map(|&p| quantile_sorted(&r, p).unwrap())
        .chain([0.0])
        .collect();
    let grid = format!(
        "[grid]\n\"fund.initial\" = [{}]\n",
        funds
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let exp = common::parse(&common::stressed(seeds, 1.0, &grid));
    let result = common::run(&exp, 2);
    let mut depleted_somewhere = 0;
    for (c, &f0) in funds.iter().enumerate() {
        let rows = result.cell_rows(c);
        for (row, reference) in rows.iter().zip(&reference.rows) {
            assert_eq!(row.seed, reference.seed);
            assert_eq!(
                row.depleted,
                reference.required_capital > f0,
                "seed {} F0 {f0}: R {}",
                row.seed,
                reference.required_capital
            );
            // And within the run itself.
            assert_eq!(row.depleted, row.required_capital > f0);
            depleted_somewhere += row.depleted as usize;
        }
    }
    assert!(depleted_somewhere > 0);
}
