//! Price series from CSV files as they are published, for replay and bootstrap.
//!
//! Copes with the quirks of the files in `shared/data`: a banner line before the header,
//! rows newest first, a price column chosen by name, and a time column in Unix seconds or as a
//! date (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, UTC). Duplicated times, non-positive prices
//! and times that are neither ascending nor descending are errors naming the row; gaps in the
//! spacing are reported as notes with the row.

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
    let mut lines = text.lines().enumerate();
    // The header is the first line that names both columns; lines before it are banners.
    let (header_line, header) = lines
        .by_ref()
        .map(|(i, l)| (i + 1, split_csv(l)))
        .find(|(_, cols)| cols.contains(&price_column) && cols.contains(&time_column))
        .ok_or_else(|| {
            err(format!(
                "no header line names both `{time_column}` and `{price_column}`"
            ))
        })?;
    let ti = header.iter().position(|c| *c == time_column).unwrap_or(0);
    let pi = header.iter().position(|c| *c == price_column).unwrap_or(0);
    let mut rows: Vec<(usize, i64, f64)> = Vec::new();
    for (i, line) in lines {
        let row = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols = split_csv(line);
        let (Some(t), Some(p)) = (cols.get(ti), cols.get(pi)) else {
            return Err(err(format!(
                "row {row}: fewer columns than the header on row {header_line}"
            )));
        };
        let t = parse_time(t).ok_or_else(|| {
            err(format!(
                "row {row}: `{t}` is not a time in seconds or a date"
            ))
        })?;
        let p: f64 = p
            .parse()
            .map_err(|_| err(format!("row {row}: price `{p}` is not a number")))?;
        if !(p.is_finite() && p > 0.0) {
            return Err(err(format!("row {row}: price must be > 0, got {p}")));
        }
        rows.push((row, t, p));
    }
    if rows.len() < 2 {
        return Err(err("needs at least two price rows".into()));
    }
    // Newest first is accepted and turned around; anything else out of order is an error.
    if rows.len() >= 2 && rows[0].1 > rows[1].1 {
        rows.reverse();
    }
    for w in rows.windows(2) {
        let ((r0, t0, _), (r1, t1, _)) = (w[0], w[1]);
        if t1 == t0 {
            return Err(err(format!(
                "row {r1}: duplicate time {t1} (also on row {r0})"
            )));
        }
        if t1 < t0 {
            return Err(err(format!(
                "row {r1}: time {t1} is out of order after row {r0} ({t0})"
            )));
        }
    }
    // The usual spacing: the most common difference (ties: the smallest).
    let mut diffs: Vec<i64> = rows.windows(2).map(|w| w[1].1 - w[0].1).collect();
    diffs.sort_unstable();
    let mut spacing = diffs[0];
    let mut best = 0;
    for run in diffs.chunk_by(|a, b| a == b) {
        if run.len() > best {
            (best, spacing) = (run.len(), run[0]);
        }
    }
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
}
