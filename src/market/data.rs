//! Price series from CSV files as they are published, for replay and bootstrap.
//!
//! Copes with the quirks of the files in `shared/data`: a banner line before the header,
//! rows newest first, a price column chosen by name, and a time column in Unix seconds or as a
//! date (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, UTC). Duplicated times, non-positive prices
//! and times that are neither ascending nor descending are errors naming the row; gaps in the
//! spacing are reported as notes with the row.

use std::collections::HashMap;
use std::path::Path;

use crate::params::ParamError;

/// A price series, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceSeries {
    /// Unix seconds (UTC).
    pub times: Vec<i64>,
    pub prices: Vec<f64>,
    /// The usual spacing of rows, in seconds (the most common difference).
    pub spacing: i64,
    /// Irregularities that are not errors, each naming its row: gaps longer than `spacing`.
    pub notes: Vec<String>,
}

impl PriceSeries {
    /// Log returns between consecutive rows.
    pub fn log_returns(&self) -> Vec<f64> {
        self.prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
    }

    /// Log returns for a simulation whose step is `dt_seconds`, scaled by `vol_multiplier`:
    /// one row per step, so the file's spacing must equal the step. The error's field is
    /// relative to the price model (`path`, `vol_multiplier`).
    pub fn step_returns(
        &self,
        vol_multiplier: f64,
        dt_seconds: f64,
    ) -> Result<Vec<f64>, ParamError> {
        crate::params::positive("vol_multiplier", vol_multiplier)?;
        if (self.spacing as f64 - dt_seconds).abs() > 1e-9 {
            return Err(ParamError::new(
                "path",
                format!(
                    "rows are {} s apart but a step is {dt_seconds} s; set experiment.dt_seconds = {}",
                    self.spacing, self.spacing
                ),
            ));
        }
        let returns: Vec<f64> = self
            .log_returns()
            .iter()
            .map(|r| r * vol_multiplier)
            .collect();
        if returns.is_empty() {
            return Err(ParamError::new("path", "the window holds no returns"));
        }
        Ok(returns)
    }

    /// The rows with `start <= time <= end` (Unix seconds; `None` leaves that side open).
    pub fn window(&self, start: Option<i64>, end: Option<i64>) -> PriceSeries {
        let keep: Vec<usize> = (0..self.times.len())
            .filter(|&i| {
                start.is_none_or(|s| self.times[i] >= s) && end.is_none_or(|e| self.times[i] <= e)
            })
            .collect();
        PriceSeries {
            times: keep.iter().map(|&i| self.times[i]).collect(),
            prices: keep.iter().map(|&i| self.prices[i]).collect(),
            spacing: self.spacing,
            notes: Vec::new(),
        }
    }
}

/// `2020-03-12 09:00` (UTC) from Unix seconds: the inverse of [`parse_time`] to the minute.
pub fn format_time(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => format!("{secs} s"),
    }
}

/// Unix seconds from `1584003600`, `2020-03-12`, `2020-03-12 09:00` or
/// `2020-03-12 09:00:00` (UTC; a `T` may stand for the space and a `Z` may follow). A date
/// that does not exist (`2021-02-29`, `2020-04-31`, `25:00`) is `None`: chrono checks the
/// calendar.
pub fn parse_time(s: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs);
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| t.and_utc().timestamp())
}

fn split_csv(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect()
}

/// Reads `price_column` and `time_column` of a CSV file. Errors name the file (`field`
/// `path`) and the row (1-based line number in the file).
pub fn load_price_csv(
    path: &Path,
    price_column: &str,
    time_column: &str,
) -> Result<PriceSeries, ParamError> {
    let err = |rule: String| ParamError::new("path", format!("{}: {rule}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let mut rows = read_rows(&text, price_column, time_column).map_err(err)?;
    if rows.len() < 2 {
        return Err(err("needs at least two price rows".into()));
    }
    // Newest first is accepted and turned around; anything else out of order is an error.
    if rows.len() >= 2 && rows[0].1 > rows[1].1 {
        rows.reverse();
    }
    check_order(&rows).map_err(err)?;
    let spacing = usual_spacing(&rows);
    let notes = rows
        .windows(2)
        .filter(|w| w[1].1 - w[0].1 > spacing)
        .map(|w| {
            format!(
                "row {}: gap of {} s after the previous row (usual spacing {spacing} s)",
                w[1].0,
                w[1].1 - w[0].1
            )
        })
        .collect();
    Ok(PriceSeries {
        times: rows.iter().map(|r| r.1).collect(),
        prices: rows.iter().map(|r| r.2).collect(),
        spacing,
        notes,
    })
}

/// A row of a price file: its 1-based line, its time (Unix seconds) and its price.
type Row = (usize, i64, f64);

/// The rows below the header, in file order. The header is the first line that names both
/// columns; lines before it are banners. Errors are the rule, without the file.
fn read_rows(text: &str, price_column: &str, time_column: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().enumerate();
    let (header_line, header) = lines
        .by_ref()
        .map(|(i, l)| (i + 1, split_csv(l)))
        .find(|(_, cols)| cols.contains(&price_column) && cols.contains(&time_column))
        .ok_or_else(|| format!("no header line names both `{time_column}` and `{price_column}`"))?;
    let ti = header.iter().position(|c| *c == time_column).unwrap_or(0);
    let pi = header.iter().position(|c| *c == price_column).unwrap_or(0);
    let mut rows: Vec<Row> = Vec::new();
    for (i, line) in lines {
        let row = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols = split_csv(line);
        let (Some(t), Some(p)) = (cols.get(ti), cols.get(pi)) else {
            return Err(format!(
                "row {row}: fewer columns than the header on row {header_line}"
            ));
        };
        rows.push((row, parse_row_time(t, row)?, parse_price(p, row)?));
    }
    Ok(rows)
}

fn parse_row_time(t: &str, row: usize) -> Result<i64, String> {
    parse_time(t).ok_or_else(|| format!("row {row}: `{t}` is not a time in seconds or a date"))
}

fn parse_price(p: &str, row: usize) -> Result<f64, String> {
    let p: f64 = p
        .parse()
        .map_err(|_| format!("row {row}: price `{p}` is not a number"))?;
    if !(p.is_finite() && p > 0.0) {
        return Err(format!("row {row}: price must be > 0, got {p}"));
    }
    Ok(p)
}

/// Times strictly ascending: a repeated time or one that goes back names both rows.
fn check_order(rows: &[Row]) -> Result<(), String> {
    for w in rows.windows(2) {
        let ((r0, t0, _), (r1, t1, _)) = (w[0], w[1]);
        if t1 == t0 {
            return Err(format!("row {r1}: duplicate time {t1} (also on row {r0})"));
        }
        if t1 < t0 {
            return Err(format!(
                "row {r1}: time {t1} is out of order after row {r0} ({t0})"
            ));
        }
    }
    Ok(())
}

/// The usual spacing of two or more rows: the most common difference (ties: the smallest).
fn usual_spacing(rows: &[Row]) -> i64 {
    let mut diffs: Vec<i64> = rows.windows(2).map(|w| w[1].1 - w[0].1).collect();
    diffs.sort_unstable();
    let mut spacing = diffs.first().copied().unwrap_or(0);
    let mut best = 0;
    for run in diffs.chunk_by(|a, b| a == b) {
        if run.len() > best {
            (best, spacing) = (run.len(), run[0]);
        }
    }
    spacing
}

/// The part of a price file a replay or bootstrap reads: the file, its price and time
/// columns, and the window between `start` and `end` (dates or Unix seconds; empty: open).
#[derive(Clone, Copy, Debug)]
pub struct DataWindow<'a> {
    pub file: &'a str,
    pub price_column: &'a str,
    pub time_column: &'a str,
    pub start: &'a str,
    pub end: &'a str,
}

/// The price files an experiment names, each read once however many grid cells (or
/// regimes) use it: `validate` on a grid of 100 cells reads a CSV once, not 100 times.
#[derive(Debug, Default)]
pub struct DataFiles {
    read: std::cell::RefCell<HashMap<DataKey, Result<PriceSeries, ParamError>>>,
}

/// A price file and the two columns read from it.
type DataKey = (String, String, String);

impl DataFiles {
    /// `file`'s `price_column` and `time_column`, read on first use.
    fn load(
        &self,
        file: &str,
        price_column: &str,
        time_column: &str,
    ) -> Result<PriceSeries, ParamError> {
        let key = (
            file.to_string(),
            price_column.to_string(),
            time_column.to_string(),
        );
        if let Some(known) = self.read.borrow().get(&key) {
            return known.clone();
        }
        let loaded = load_price_csv(Path::new(file), price_column, time_column);
        self.read.borrow_mut().insert(key, loaded.clone());
        loaded
    }

    /// The rows of `w` for the price model at dotted `path`. With `dt` (a replay or bootstrap
    /// that takes one row per step) the rows must be `dt` seconds apart.
    pub fn window(
        &self,
        w: &DataWindow,
        path: &str,
        dt: Option<f64>,
    ) -> Result<PriceSeries, ParamError> {
        let when = |field: &str, v: &str| -> Result<Option<i64>, ParamError> {
            if v.is_empty() {
                return Ok(None);
            }
            parse_time(v).map(Some).ok_or_else(|| {
                ParamError::new(
                    field,
                    format!("must be a date (YYYY-MM-DD HH:MM:SS, UTC) or Unix seconds, got `{v}`"),
                )
                .within(path)
            })
        };
        let (from, to) = (when("start", w.start)?, when("end", w.end)?);
        let series = self
            .load(w.file, w.price_column, w.time_column)
            .map_err(|e| e.within(path))?
            .window(from, to);
        // Bootstrap and replay take one row per step: the step is what is wrong when the two
        // differ (the file is what it is).
        if let Some(dt) = dt
            && (series.spacing as f64 - dt).abs() > 1e-9
        {
            return Err(ParamError::new(
                "experiment.dt_seconds",
                format!(
                    "is {dt} s, but the rows of `{path}.path` ({}) are {} s apart, and a                      replay or bootstrap takes one row per step: set experiment.dt_seconds = {}",
                    w.file, series.spacing, series.spacing
                ),
            ));
        }
        Ok(series)
    }

    /// The `open`, `high`, `low` and `close` columns of `w`'s file over its window, for
    /// intrabar paths (whose step is finer than the rows: the bars check the spacing, not
    /// this). `w`'s own price column is not read.
    pub fn ohlc(
        &self,
        w: &DataWindow,
        columns: [&str; 4],
        path: &str,
    ) -> Result<[PriceSeries; 4], ParamError> {
        let load = |column: &str| {
            let one = DataWindow {
                price_column: column,
                ..*w
            };
            self.window(&one, path, None)
        };
        Ok([
            load(columns[0])?,
            load(columns[1])?,
            load(columns[2])?,
            load(columns[3])?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV in the temporary folder, removed when dropped.
    struct TempCsv(std::path::PathBuf);

    impl std::ops::Deref for TempCsv {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempCsv {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn write(name: &str, text: &str) -> TempCsv {
        let p =
            std::env::temp_dir().join(format!("backstop-csv-{}-{name}.csv", std::process::id()));
        std::fs::write(&p, text).unwrap();
        TempCsv(p)
    }

    #[test]
    fn dates_parse_to_unix_seconds() {
        assert_eq!(parse_time("1970-01-01"), Some(0));
        // Dates that do not exist are refused, not rolled over.
        for bad in [
            "2021-02-29",
            "2020-04-31",
            "2020-13-01",
            "2020-03-12 25:00",
            "2020-03-12 09:61",
            "2020-03-12 09:00:61",
            "2020-3-12x",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(parse_time("2020-02-29"), Some(1_582_934_400));
        assert_eq!(parse_time("2020-03-12T09:00:00Z"), Some(1_584_003_600));
        assert_eq!(format_time(1_584_003_600), "2020-03-12 09:00");
        assert_eq!(parse_time("2020-03-12 09:00:00"), Some(1_584_003_600));
        assert_eq!(parse_time("1584003600"), Some(1_584_003_600));
        assert_eq!(parse_time("2020-13-01"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn times_format_back_to_the_dates_they_came_from() {
        for t in [
            "1970-01-01 00:00",
            "2020-02-29 23:59",
            "2020-03-12 09:00",
            "2100-03-01 12:30",
        ] {
            assert_eq!(format_time(parse_time(t).unwrap()), t);
        }
        assert_eq!(format_time(-60), "1969-12-31 23:59");
    }

    #[test]
    fn banner_and_newest_first_are_handled_and_gaps_noted() {
        let p = write(
            "ok",
            "https://example.com\nunix,date,close\n10800,x,4\n3600,x,2\n0,x,1\n",
        );
        let s = load_price_csv(&p, "close", "unix").unwrap();
        assert_eq!(s.times, vec![0, 3600, 10800]);
        assert_eq!(s.prices, vec![1.0, 2.0, 4.0]);
        assert_eq!(s.notes.len(), 1);
        assert!(s.notes[0].contains("row 3"), "{:?}", s.notes);
        let by_date = write(
            "dates",
            "date,close\n2020-01-01 00:00:00,1\n2020-01-01 01:00:00,2\n",
        );
        assert_eq!(
            load_price_csv(&by_date, "close", "date").unwrap().spacing,
            3600
        );
    }

    #[test]
    fn bad_rows_are_errors_naming_the_row() {
        let cases = [
            ("dup", "t,close\n0,1\n60,2\n60,3\n", "row 4: duplicate"),
            ("neg", "t,close\n0,1\n60,-2\n", "row 3: price must be > 0"),
            (
                "order",
                "t,close\n0,1\n120,2\n60,3\n",
                "row 4: time 60 is out of order",
            ),
            ("nan", "t,close\n0,1\n60,abc\n", "row 3: price `abc`"),
            ("header", "a,b\n1,2\n", "no header line"),
        ];
        for (name, text, expected) in cases {
            let e = load_price_csv(&write(name, text), "close", "t").unwrap_err();
            assert_eq!(e.field, "path");
            assert!(e.rule.contains(expected), "{name}: {}", e.rule);
        }
    }

    /// The shared BTC files load as they are published.
    #[test]
    fn the_shared_btc_files_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
        if !dir.exists() {
            return; // the data lives beside the repository, as in CI and on developers' machines
        }
        let h = load_price_csv(&dir.join("btcusd_bitstamp_1h.csv"), "close", "unix").unwrap();
        assert_eq!(h.spacing, 3_600);
        assert_eq!(h.prices.len(), 37_387);
        let crash = h.window(
            parse_time("2020-03-12 09:00"),
            parse_time("2020-03-13 02:00"),
        );
        assert_eq!(crash.prices.len(), 18);
        let d = load_price_csv(&dir.join("btcusd_bitstamp_1d.csv"), "close", "date").unwrap();
        assert_eq!(d.spacing, 86_400);
    }

    /// A price file is read once: after the first read, the file may even be gone.
    #[test]
    fn each_price_file_is_read_once() {
        let csv = write("read-once", "unix,close\n0,100\n60,101\n120,102\n");
        let name = csv.to_str().unwrap().to_string();
        let data = DataFiles::default();
        let first = data.load(&name, "close", "unix").unwrap();
        drop(csv);
        assert_eq!(data.load(&name, "close", "unix").unwrap(), first);
        // Another column is another read, which now fails.
        assert!(data.load(&name, "open", "unix").is_err());
    }

    fn window<'a>(file: &'a str, start: &'a str, end: &'a str) -> DataWindow<'a> {
        DataWindow {
            file,
            price_column: "close",
            time_column: "unix",
            start,
            end,
        }
    }

    #[test]
    fn a_window_keeps_its_rows_and_checks_the_step() {
        let csv = write(
            "window",
            "unix,open,close\n0,1,100\n60,1,101\n120,1,102\n180,1,103\n",
        );
        let name = csv.to_str().unwrap().to_string();
        let data = DataFiles::default();
        let w = data.window(&window(&name, "60", "120"), "market.model", Some(60.0));
        assert_eq!(w.unwrap().prices, [101.0, 102.0]);
        let e = data.window(&window(&name, "", ""), "market.model", Some(30.0));
        assert_eq!(e.unwrap_err().field, "experiment.dt_seconds");
        let e = data.window(&window(&name, "noon", ""), "market.model", None);
        assert_eq!(e.unwrap_err().field, "market.model.start");
        let columns = ["open", "open", "open", "close"];
        let [o, _, _, c] = data.ohlc(&window(&name, "", ""), columns, "m").unwrap();
        assert_eq!((o.prices[0], c.prices[0]), (1.0, 100.0));
    }

    #[test]
    fn rows_ascend_strictly_and_the_usual_spacing_is_the_most_common() {
        assert!(check_order(&[(2, 0, 1.0), (3, 60, 1.0)]).is_ok());
        let e = check_order(&[(2, 0, 1.0), (3, 0, 1.0)]).unwrap_err();
        assert_eq!(e, "row 3: duplicate time 0 (also on row 2)");
        assert!(check_order(&[(2, 60, 1.0), (3, 0, 1.0)]).is_err());
        let rows = [
            (2, 0, 1.0),
            (3, 60, 1.0),
            (4, 120, 1.0),
            (5, 300, 1.0),
            (6, 480, 1.0),
        ];
        // 60 and 180 twice each: the tie goes to the smaller.
        assert_eq!(usual_spacing(&rows), 60);
    }
}
