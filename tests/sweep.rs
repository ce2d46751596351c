//! Long sweeps: a killed run resumes where it stopped, shards merge, and both end with the same
//! bytes as one uninterrupted run. Grids with ranges and zip groups run end to end.

mod common;

use common::{backstop, bin, temp_dir};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// 4 cells x 3,000 seeds: 12 units of work of 1,000 seeds.
const SWEEP: &str = r#"
[experiment]
seeds = 3000
master_seed = 5
steps = 360

[market.book]
kind = "linear"
depth_usd = 3e6

[traders]
count = 150

[grid]
"fund.initial" = [0.0, 1e5]
"liquidation.penalty_rate" = [0.005, 0.01]
"#;

const OUTPUTS: &[&str] = &[
    "runs.parquet",
    "runs_by_market.parquet",
    "summary.parquet",
    "summary.csv",
    "summary_by_market.parquet",
    "summary_by_market.csv",
    "fund_fan.parquet",
    "sample_path.parquet",
    "liquidation_map.parquet",
    "liquidation_map.csv",
    "experiment.toml",
    "report.md",
    "depletion_curve.png",
    "fund_fan.svg",
];

fn assert_same_outputs(a: &Path, b: &Path) {
    for f in OUTPUTS {
        let x = std::fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}: {e}", a.join(f).display()));
        let y = std::fs::read(b.join(f)).unwrap_or_else(|e| panic!("{}: {e}", b.join(f).display()));
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn run_ok(args: &[&str]) -> String {
    let o = backstop(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Units saved so far: their rows files (written last) mark them done.
fn saved_units(out: &Path) -> usize {
    std::fs::read_dir(out.join("parts"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref().is_ok_and(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".parquet") && !name.ends_with(".markets.parquet")
                })
            })
            .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_run_resumes_to_the_same_bytes() {
    let dir = temp_dir("kill");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let (f, straight, killed) = (
        file.to_str().unwrap().to_string(),
        dir.join("straight"),
        dir.join("killed"),
    );
    run_ok(&["run", &f, "--out", straight.to_str().unwrap(), "--quiet"]);

    // Start the same run, and SIGKILL it once some but not all units are saved.
    let mut child = bin()
        .args([
            "run",
            &f,
            "--out",
            killed.to_str().unwrap(),
            "--quiet",
            "--threads",
            "1",
        ])
        .spawn()
        .unwrap();
    let start = Instant::now();
    while saved_units(&killed) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no unit saved in time"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = saved_units(&killed);
    assert!(at_kill < 12, "the run finished before it could be killed");
    assert!(
        !killed.join("summary.csv").exists(),
        "no table before the run completes"
    );

    // The same command picks up where it stopped.
    run_ok(&["run", &f, "--out", killed.to_str().unwrap(), "--quiet"]);
    assert_eq!(saved_units(&killed), 12);
    assert_same_outputs(&straight, &killed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_experiment_is_refused_unless_restarted() {
    let dir = temp_dir("changed");
    let file = dir.join("sweep.toml");
    let small = SWEEP.replace("seeds = 3000", "seeds = 100");
    std::fs::write(&file, &small).unwrap();
    let out = dir.join("out");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    run_ok(&["run", f, "--out", o, "--quiet", "--no-charts"]);
    std::fs::write(&file, small.replace("count = 150", "count = 160")).unwrap();
    let refused = backstop(&["run", f, "--out", o, "--quiet"]);
    assert_eq!(refused.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(
        msg.contains("different experiment") && msg.contains("--restart"),
        "{msg}"
    );
    run_ok(&["run", f, "--out", o, "--quiet", "--no-charts", "--restart"]);
    let resolved = std::fs::read_to_string(out.join("experiment.toml")).unwrap();
    assert!(resolved.contains("count = 160"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A folder kept as the committed examples are, its report without its tables or saved
/// units (issue 34, item 9): another experiment into it is refused, naming what differs,
/// and changes nothing; `report` says how to make the tables; the same experiment gives
/// the report back byte for byte.
#[test]
fn a_committed_example_is_neither_replaced_nor_a_dead_end() {
    let dir = temp_dir("example");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SWEEP.replace("seeds = 3000", "seeds = 100")).unwrap();
    let out = dir.join("out");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    run_ok(&["run", f, "--out", o, "--quiet"]);
    let report = std::fs::read(out.join("report.md")).unwrap();
    // Kept as committed: no Parquet table, no saved units, no seal.
    std::fs::remove_dir_all(out.join("parts")).unwrap();
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".parquet") || name == "tables.seal" {
            std::fs::remove_file(path).unwrap();
        }
    }
    let other = backstop(&["run", f, "--out", o, "--quiet", "--seeds", "50"]);
    assert_eq!(other.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&other.stderr);
    assert!(
        msg.contains("experiment.toml: this folder holds the report of a different experiment")
            && msg.contains("experiment.seeds 100 -> 50")
            && msg.contains("--restart"),
        "{msg}"
    );
    assert_eq!(std::fs::read(out.join("report.md")).unwrap(), report);
    let dead_end = backstop(&["report", o]);
    assert_eq!(dead_end.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&dead_end.stderr);
    let how = format!("backstop run {o}/experiment.toml --out {o}");
    assert!(msg.contains(&how), "{msg}");
    let resolved = out.join("experiment.toml");
    run_ok(&["run", resolved.to_str().unwrap(), "--out", o, "--quiet"]);
    assert_eq!(std::fs::read(out.join("report.md")).unwrap(), report);
    run_ok(&["report", o]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_merge_to_the_same_bytes_as_one_run() {
    let dir = temp_dir("shards");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SWEEP.replace("seeds = 3000", "seeds = 1500")).unwrap();
    let f = file.to_str().unwrap().to_string();
    let single = dir.join("single");
    run_ok(&["run", &f, "--out", single.to_str().unwrap(), "--quiet"]);
    let shards: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("shard{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        let shard = format!("{i}/3");
        let stdout = run_ok(&["run", &f, "--out", s.to_str().unwrap(), "--shard", &shard]);
        assert!(stdout.contains("units of work saved"), "{stdout}");
        assert!(!s.join("summary.csv").exists());
    }
    // Two shards are not enough: the merge fails, names the missing units and the task to
    // resubmit, writes no table, and keeps what it gathered.
    let merged = dir.join("merged");
    let partial = backstop(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(partial.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&partial.stderr);
    assert!(
        msg.contains("missing: unit")
            && msg.contains("resubmit --shard 2/3 (")
            && !msg.contains("0/3"),
        "{msg}"
    );
    assert!(!merged.join("summary.csv").exists());
    run_ok(&[
        "merge",
        shards[2].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--quiet",
    ]);
    assert_same_outputs(&single, &merged);
    // A shard of another experiment does not mix in.
    let other = dir.join("other.toml");
    std::fs::write(&other, SWEEP.replace("seeds = 3000", "seeds = 10")).unwrap();
    let stranger = dir.join("stranger");
    run_ok(&[
        "run",
        other.to_str().unwrap(),
        "--out",
        stranger.to_str().unwrap(),
        "--quiet",
        "--shard",
        "0/2",
    ]);
    let refused = backstop(&[
        "merge",
        shards[0].to_str().unwrap(),
        stranger.to_str().unwrap(),
        "--out",
        dir.join("bad").to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("different experiment"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ranges_and_zip_groups_sweep_end_to_end() {
    let dir = temp_dir("ranges");
    let file = dir.join("ranges.toml");
    std::fs::write(
        &file,
        r#"
[experiment]
seeds = 40
steps = 240

[traders]
count = 100

[grid]
"fund.initial" = { logspace = [1e4, 1e6, 3] }

[grid.zip.margins]
"margin.imr" = [0.02, 0.04]
"margin.mmr" = [0.01, 0.02]
"#,
    )
    .unwrap();
    let out = dir.join("out");
    run_ok(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ]);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("cell,fund.initial,margin.imr,margin.mmr,"),
        "{header}"
    );
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6);
    // imr and mmr moved together; the log range kept its exact ends.
    assert!(rows[0].starts_with("0,10000.0,0.02,0.01,"), "{}", rows[0]);
    assert!(rows[5].starts_with("5,1000000.0,0.04,0.02,"), "{}", rows[5]);
    // The resolved file writes the expanded grid back and repeats the run.
    let again = dir.join("again");
    run_ok(&[
        "run",
        out.join("experiment.toml").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ]);
    assert_eq!(
        csv,
        std::fs::read_to_string(again.join("summary.csv")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
