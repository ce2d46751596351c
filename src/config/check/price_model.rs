//! `[market.model]` (and each market's): the index model, checked by the model itself
//! (its `new`) and for the horizon (its `check_horizon`, beside its `new` in `market/`).
//! Replay and bootstrap read their rows through one data window.

use crate::config::file::{IntrabarSpec, PriceModelSpec, ShockSpec};
use crate::market::data::{DataFiles, DataWindow, format_time};
use crate::market::{
    BootstrapParams, GarchParams, GbmParams, HestonParams, Horizon, MertonParams, PriceModelParams,
    RegimeParams, ReplayHistory, ReplayParams, Shocks,
};
use crate::params::ParamError;

/// Validates a price model spec found at dotted `path` (regimes nest models).
pub(crate) fn price_model(
    data: &DataFiles,
    spec: &PriceModelSpec,
    dt: f64,
    steps: u64,
    path: &str,
) -> Result<PriceModelParams, ParamError> {
    let horizon = Horizon { dt, steps, path };
    if let Some(r) = ReplayedRows::of(spec) {
        return match r.intrabar {
            IntrabarSpec::Bridge => {
                replay_bars(data, &r.window, r.bars, r.vol_multiplier, &horizon)
            }
            IntrabarSpec::None => replay(data, &r.window, r.vol_multiplier, &horizon),
        };
    }
    match spec {
        PriceModelSpec::RegimeSwitching {
            regimes,
            transition,
            initial,
        } => regime_switching(data, regimes, transition, *initial, &horizon),
        PriceModelSpec::Bootstrap {
            path: file,
            price_column,
            time_column,
            start,
            end,
            mean_block,
            vol_multiplier,
            intrabar,
            open_column,
            high_column,
            low_column,
        } => {
            let window = DataWindow {
                file,
                price_column,
                time_column,
                start,
                end,
            };
            let bars = [open_column, high_column, low_column].map(String::as_str);
            match intrabar {
                IntrabarSpec::Bridge => {
                    bootstrap_bars(data, &window, bars, *mean_block, *vol_multiplier, &horizon)
                }
                IntrabarSpec::None => {
                    bootstrap(data, &window, *mean_block, *vol_multiplier, &horizon)
                }
            }
        }
        _ => parametric(spec, &horizon),
    }
}

/// A model drawn from its parameters alone: its horizon checked first, then its `new`.
fn parametric(spec: &PriceModelSpec, horizon: &Horizon) -> Result<PriceModelParams, ParamError> {
    let Horizon { dt, path, .. } = *horizon;
    let within = |e: ParamError| e.within(path);
    Ok(match spec {
        PriceModelSpec::Gbm { vol, drift } => {
            GbmParams::check_horizon(*vol, *drift, horizon)?;
            PriceModelParams::Gbm(GbmParams::new(*vol, *drift, dt).map_err(within)?)
        }
        PriceModelSpec::Heston {
            initial_vol,
            long_run_vol,
            kappa,
            xi,
            rho,
            substeps,
            drift,
        } => {
            HestonParams::check_horizon(*initial_vol, *long_run_vol, *drift, horizon)?;
            let (vols, shape) = ((*initial_vol, *long_run_vol), (*kappa, *xi, *rho));
            PriceModelParams::Heston(heston(vols, shape, *drift, *substeps, dt).map_err(within)?)
        }
        PriceModelSpec::Merton {
            vol,
            jump_intensity,
            jump_mean,
            jump_sd,
            drift,
        } => {
            let jumps = (*jump_intensity, *jump_mean, *jump_sd);
            MertonParams::check_horizon(*vol, jumps.0, jumps.1, jumps.2, *drift, horizon)?;
            PriceModelParams::Merton(
                MertonParams::new(*vol, *drift, jumps.0, jumps.1, jumps.2, dt).map_err(within)?,
            )
        }
        PriceModelSpec::Garch {
            long_run_vol,
            alpha,
            beta,
            shocks,
            initial_vol,
            drift,
            fit_dt_seconds,
        } => {
            if let Some(step) = fit_dt_seconds.filter(|s| !(s.is_finite() && *s > 0.0)) {
                return Err(ParamError::new(
                    "fit_dt_seconds",
                    format!("must be a step in seconds above 0, got {step}"),
                )
                .within(path));
            }
            GarchParams::check_horizon(*initial_vol, *long_run_vol, *drift, horizon)?;
            let shocks = garch_shocks(shocks, path)?;
            PriceModelParams::Garch(
                GarchParams::new(
                    *long_run_vol,
                    *alpha,
                    *beta,
                    shocks,
                    *initial_vol,
                    *drift,
                    dt,
                )
                .map_err(within)?,
            )
        }
        PriceModelSpec::RegimeSwitching { .. }
        | PriceModelSpec::Replay { .. }
        | PriceModelSpec::Bootstrap { .. } => {
            return Err(ParamError::new(
                "kind",
                "reads a data file or nests models, and is not drawn from parameters alone",
            )
            .within(path));
        }
    })
}

/// Heston's `new`, from its vols (initial, long run) and its variance's shape (kappa, xi,
/// rho).
fn heston(
    (initial_vol, long_run_vol): (f64, f64),
    (kappa, xi, rho): (f64, f64, f64),
    drift: f64,
    substeps: u32,
    dt: f64,
) -> Result<HestonParams, ParamError> {
    HestonParams::new(
        initial_vol,
        long_run_vol,
        kappa,
        xi,
        rho,
        drift,
        substeps,
        dt,
    )
}

/// GARCH's shocks; a Student-t's errors are named below `path.shocks`.
fn garch_shocks(spec: &ShockSpec, path: &str) -> Result<Shocks, ParamError> {
    match spec {
        ShockSpec::Normal => Ok(Shocks::Normal),
        ShockSpec::StudentT { nu } => {
            Shocks::student_t(*nu).map_err(|e| e.within(&format!("{path}.shocks")))
        }
    }
}

/// Each regime's model (below `path.regimes[i]`), then the chain over them.
fn regime_switching(
    data: &DataFiles,
    regimes: &[PriceModelSpec],
    transition: &[Vec<f64>],
    initial: usize,
    horizon: &Horizon,
) -> Result<PriceModelParams, ParamError> {
    let Horizon { dt, steps, path } = *horizon;
    let models = regimes
        .iter()
        .enumerate()
        .map(|(i, r)| price_model(data, r, dt, steps, &format!("{path}.regimes[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PriceModelParams::RegimeSwitching(
        RegimeParams::new(models, transition, initial).map_err(|e| e.within(path))?,
    ))
}

/// Intrabar paths run through the published bars: scaled returns would leave their highs and
/// lows.
fn bridge_needs_no_multiplier(vol_multiplier: f64, path: &str) -> Result<(), ParamError> {
    if vol_multiplier == 1.0 {
        return Ok(());
    }
    Err(ParamError::new(
        format!("{path}.vol_multiplier"),
        "must be 1 with intrabar = \"bridge\": the paths run through the published bars, \
         and scaled returns would leave their highs and lows",
    ))
}

/// A block bootstrap of the window's rows, one row per step.
fn bootstrap(
    data: &DataFiles,
    window: &DataWindow,
    mean_block: f64,
    vol_multiplier: f64,
    horizon: &Horizon,
) -> Result<PriceModelParams, ParamError> {
    let Horizon { dt, path, .. } = *horizon;
    let series = data.window(window, path, Some(dt))?;
    let params = BootstrapParams::new(&series, mean_block, vol_multiplier, dt)
        .map_err(|e| e.within(path))?;
    BootstrapParams::check_horizon(&series, vol_multiplier, horizon)?;
    Ok(PriceModelParams::Bootstrap(params))
}

/// A block bootstrap of the window's bars (open, high and low from `bars`, the close from
/// the window's price column), walked intrabar.
fn bootstrap_bars(
    data: &DataFiles,
    window: &DataWindow,
    [open, high, low]: [&str; 3],
    mean_block: f64,
    vol_multiplier: f64,
    horizon: &Horizon,
) -> Result<PriceModelParams, ParamError> {
    let Horizon { dt, path, .. } = *horizon;
    bridge_needs_no_multiplier(vol_multiplier, path)?;
    let columns = [open, high, low, window.price_column];
    let [o, h, l, c] = data.ohlc(window, columns, path)?;
    let ohlc = [&o, &h, &l, &c];
    let params = BootstrapParams::with_bars(ohlc, mean_block, dt).map_err(|e| e.within(path))?;
    BootstrapParams::check_horizon_bars(ohlc[3], dt, horizon)?;
    Ok(PriceModelParams::Bootstrap(params))
}

/// A replay of the window's rows, one row per step.
fn replay(
    data: &DataFiles,
    window: &DataWindow,
    vol_multiplier: f64,
    horizon: &Horizon,
) -> Result<PriceModelParams, ParamError> {
    let Horizon { dt, steps, path } = *horizon;
    let series = data.window(window, path, Some(dt))?;
    let params =
        ReplayParams::new(&series, vol_multiplier, dt, steps).map_err(|e| e.within(path))?;
    ReplayParams::check_horizon(&series, vol_multiplier, horizon)?;
    Ok(PriceModelParams::Replay(params))
}

/// A replay of the window's bars, walked intrabar.
fn replay_bars(
    data: &DataFiles,
    window: &DataWindow,
    [open, high, low]: [&str; 3],
    vol_multiplier: f64,
    horizon: &Horizon,
) -> Result<PriceModelParams, ParamError> {
    let Horizon { dt, steps, path } = *horizon;
    bridge_needs_no_multiplier(vol_multiplier, path)?;
    let columns = [open, high, low, window.price_column];
    let [o, h, l, c] = data.ohlc(window, columns, path)?;
    let ohlc = [&o, &h, &l, &c];
    let params = ReplayParams::with_bars(ohlc, dt, steps).map_err(|e| e.within(path))?;
    ReplayParams::check_horizon_bars(ohlc[3], horizon)?;
    Ok(PriceModelParams::Replay(params))
}

/// Whether a regime of `spec`, at any depth, is a replay.
pub(crate) fn regime_replays(spec: &PriceModelSpec) -> bool {
    match spec {
        PriceModelSpec::RegimeSwitching { regimes, .. } => regimes
            .iter()
            .any(|r| matches!(r, PriceModelSpec::Replay { .. }) || regime_replays(r)),
        _ => false,
    }
}

/// What a replay spec reads of its file: the window of its rows, its bars' open, high and
/// low columns, its volatility multiplier and how it walks inside a bar.
struct ReplayedRows<'a> {
    window: DataWindow<'a>,
    bars: [&'a str; 3],
    vol_multiplier: f64,
    intrabar: IntrabarSpec,
}

impl<'a> ReplayedRows<'a> {
    /// `None` for any model but a replay.
    fn of(spec: &'a PriceModelSpec) -> Option<Self> {
        let PriceModelSpec::Replay {
            path,
            price_column,
            time_column,
            start,
            end,
            vol_multiplier,
            intrabar,
            open_column,
            high_column,
            low_column,
        } = spec
        else {
            return None;
        };
        Some(Self {
            window: DataWindow {
                file: path,
                price_column,
                time_column,
                start,
                end,
            },
            bars: [open_column, high_column, low_column].map(String::as_str),
            vol_multiplier: *vol_multiplier,
            intrabar: *intrabar,
        })
    }
}

/// The rows before a replay's first, for a warm book's look-back of `hours` (MODEL.md
/// section 3): `None` for any other model. The file must reach back that far (the row at or
/// before the look-back's first moment), an error on `traders.warm_start_hours` naming the
/// file and the date its rows begin. With intrabar bars the bars' lows and highs come too.
pub(crate) fn replay_history(
    data: &DataFiles,
    spec: &PriceModelSpec,
    hours: f64,
    path: &str,
) -> Result<Option<ReplayHistory>, ParamError> {
    let Some(ReplayedRows {
        window: replayed,
        bars: [_, high_column, low_column],
        vol_multiplier,
        intrabar,
    }) = ReplayedRows::of(spec)
    else {
        return Ok(None);
    };
    let price_column = replayed.price_column;
    let Some((from, to)) = look_back_rows(data, &replayed, hours, path)? else {
        return Ok(None);
    };
    let (from, to) = (from.to_string(), to.to_string());
    let column = |c: &str| {
        let w = DataWindow {
            price_column: c,
            start: &from,
            end: &to,
            ..replayed
        };
        data.window(&w, path, None)
    };
    let close = column(price_column)?;
    let bars = match intrabar {
        IntrabarSpec::None => None,
        IntrabarSpec::Bridge => Some((column(low_column)?, column(high_column)?)),
    };
    ReplayHistory::new(&close, bars.as_ref().map(|(l, h)| (l, h)), vol_multiplier)
        .map(Some)
        .map_err(|e| e.within(path))
}

/// The times of the first and last rows of a look-back of `hours` before the replay of
/// `replayed`: the last row at or before `hours` before the replay's first row, and that
/// first row (`None` when the replayed window is empty, which the replay itself refuses).
/// A file that does not reach back so far is an error naming the field and its first date.
fn look_back_rows(
    data: &DataFiles,
    replayed: &DataWindow,
    hours: f64,
    path: &str,
) -> Result<Option<(i64, i64)>, ParamError> {
    let Some(&t0) = data.window(replayed, path, None)?.times.first() else {
        return Ok(None);
    };
    let from = t0 - (hours * 3600.0).round() as i64;
    let t0_text = t0.to_string();
    let before = DataWindow {
        start: "",
        end: &t0_text,
        ..*replayed
    };
    let all = data.window(&before, path, None)?;
    match all.times.iter().rev().find(|&&t| t <= from) {
        Some(&first) => Ok(Some((first, t0))),
        None => {
            let begins = all
                .times
                .first()
                .map_or(String::from("after it"), |&t| format_time(t));
            Err(ParamError::new(
                "traders.warm_start_hours",
                format!(
                    "is {hours} h, but `{path}.path` ({}) begins at {begins}, less than {hours} h \
                     before the replay's start ({}): a warm book on a replay opens over the \
                     rows before it; lower warm_start_hours or move {path}.start later",
                    replayed.file,
                    format_time(t0)
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> PriceModelSpec {
        toml::from_str(text).unwrap()
    }

    fn check(spec: &PriceModelSpec) -> Result<PriceModelParams, ParamError> {
        price_model(&DataFiles::default(), spec, 60.0, 1_440, "market.model")
    }

    #[test]
    fn the_horizon_is_checked_before_the_model_itself() {
        // A negative vol fails GBM's own check; a huge one fails the horizon first.
        let e = check(&model("kind = \"gbm\"\nvol = 1e6\n")).unwrap_err();
        assert!(e.rule.contains("four standard deviations"), "{}", e.rule);
        assert_eq!(e.field, "market.model.vol");
        assert!(check(&model("kind = \"gbm\"\nvol = 0.8\n")).is_ok());
    }

    #[test]
    fn regimes_are_named_by_their_place() {
        let spec = model(
            "kind = \"regime_switching\"\ntransition = [[1.0]]\n\
             [[regimes]]\nkind = \"garch\"\nlong_run_vol = -1.0\nalpha = 0.1\nbeta = 0.8\n",
        );
        let e = check(&spec).unwrap_err();
        assert!(
            e.field.starts_with("market.model.regimes[0]."),
            "{}",
            e.field
        );
    }

    #[test]
    fn bars_are_walked_unscaled() {
        assert!(bridge_needs_no_multiplier(1.0, "m").is_ok());
        let e = bridge_needs_no_multiplier(2.0, "m").unwrap_err();
        assert_eq!(e.field, "m.vol_multiplier");
    }

    #[test]
    fn a_missing_data_file_is_named_below_the_model() {
        let e = check(&model("kind = \"replay\"\npath = \"/nonexistent/p.csv\"\n")).unwrap_err();
        assert_eq!(e.field, "market.model.path");
    }
}
