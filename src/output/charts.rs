//! Charts for governance posts, each as PNG (for forums) and SVG (for print).
//!
//! Every chart is a plain data struct implementing [`Chart`]. It only draws: the data comes
//! from tables of a finished run, and [`render`] turns it into files. Text uses DejaVu Sans,
//! shipped in `assets/fonts`, so the output does not depend on the fonts of the machine.

use std::error::Error;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::{format_money, format_pct, percentile, signed_money};
use crate::config::target::pct_short;
use crate::montecarlo::FanBand;

mod tornado;
pub use tornado::{Tornado, TornadoBar};

/// Pixel size of every chart: wide enough for a forum post, fonts sized for it.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 700;

const FONT: &str = "sans-serif";

/// Every chart's file stem (each is written as `.png` and `.svg`).
pub const CHART_NAMES: [&str; 8] = [
    "depletion_heatmap",
    "depletion_curve",
    "fund_fan",
    "bad_debt_exceedance",
    "slippage_histogram",
    "cascade_ccdf",
    "sample_path",
    "liquidation_map",
];
const TITLE: u32 = 34;
const LABEL: u32 = 24;
const TICK: u32 = 19;

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are the font shipped with the crate; failing to parse it is a build bug.
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "invalid font")
            .expect("the bundled DejaVu Sans parses");
    });
}

type DrawResult = Result<(), Box<dyn Error>>;

/// A chart with linear axes in USD and hours.
type LinearChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
/// A chart with a linear x axis and a log-scale probability on y.
type LogChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// Something that can draw itself on any plotters backend.
pub trait Chart {
    /// File stem, e.g. `depletion_heatmap`.
    fn name(&self) -> &'static str;
    /// The title drawn on the chart.
    fn title(&self) -> &str;
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// A chart rendered both ways.
pub struct Rendered {
    pub png: Vec<u8>,
    pub svg: String,
}

/// Renders `chart` as PNG and SVG of [`WIDTH`] x [`HEIGHT`] pixels.
pub fn render(chart: &impl Chart) -> Result<Rendered, Box<dyn Error>> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()?;
    }
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
    }
    Ok(Rendered {
        png: png_bytes,
        svg,
    })
}

/// Indices `0..n` thinned to about `max` points, keeping the last `tail` (the extreme values
/// that tail charts are about) and every k-th of the rest: charts of 10,000 runs stay light.
fn thinned(n: usize, tail: usize, max: usize) -> impl Iterator<Item = usize> {
    let body = n.saturating_sub(tail);
    let step = body.div_ceil(max.saturating_sub(tail).max(1)).max(1);
    (0..n).filter(move |&i| i >= body || i % step == 0)
}

fn title_style() -> TextStyle<'static> {
    (FONT, TITLE).into_font().into()
}

/// The legend box every chart uses.
/// The corner whose box (two fifths of the width, a third of the height) holds the fewest of
/// `points`, so that a legend there hides as little of the data as it can: a crash in the
/// lower left moves it elsewhere. Ties go to the first of lower left, upper left, upper
/// right, lower right.
fn emptiest_corner<I>(points: I, x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition
where
    I: Iterator<Item = (f64, f64)> + Clone,
{
    use SeriesLabelPosition::{LowerLeft, LowerRight, UpperLeft, UpperRight};
    let (w, h) = (x.1 - x.0, y.1 - y.0);
    let (left, right) = (x.0 + 0.4 * w, x.1 - 0.4 * w);
    let (low, high) = (y.0 + h / 3.0, y.1 - h / 3.0);
    let inside = |corner: &SeriesLabelPosition, (px, py): (f64, f64)| match corner {
        LowerLeft => px <= left && py <= low,
        UpperLeft => px <= left && py >= high,
        UpperRight => px >= right && py >= high,
        _ => px >= right && py <= low,
    };
    let mut best = (LowerLeft, usize::MAX);
    for corner in [LowerLeft, UpperLeft, UpperRight, LowerRight] {
        let n = points.clone().filter(|&p| inside(&corner, p)).count();
        if n < best.1 {
            best = (corner, n);
        }
    }
    best.0
}

fn draw_legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font((FONT, TICK))
        .draw()?;
    Ok(())
}

/// Draws a message in the middle of the chart area instead of data.
fn draw_message<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let root = root.margin(12, 0, 0, 0).titled(title, title_style())?;
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        message.to_string(),
        (w as i32 / 2, h as i32 / 2),
        TextStyle::from((FONT, LABEL).into_font()).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 120, 20);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const GREY: RGBColor = RGBColor(120, 120, 120);
const DARK_RED: RGBColor = RGBColor(178, 24, 43);

/// P(depletion) over two grid axes, the value printed in each cell.
pub struct Heatmap {
    pub title: String,
    pub x_name: String,
    pub x_labels: Vec<String>,
    pub y_name: String,
    pub y_labels: Vec<String>,
    /// `values[y][x]`: depletion probability.
    pub values: Vec<Vec<f64>>,
}

impl Chart for Heatmap {
    fn name(&self) -> &'static str {
        "depletion_heatmap"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (nx, ny) = (self.x_labels.len() as i32, self.y_labels.len() as i32);
        if nx == 0 || ny == 0 {
            return draw_message(root, &self.title, "No grid cells to show.");
        }
        let max = self.values.iter().flatten().copied().fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(150)
            .build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented())?;
        let xl = self.x_labels.clone();
        let yl = self.y_labels.clone();
        let seg = |labels: &[String], v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_name)
            .y_desc(&self.y_name)
            .x_labels(nx as usize)
            .y_labels(ny as usize)
            .x_label_formatter(&|v| seg(&xl, v))
            .y_label_formatter(&|v| seg(&yl, v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .draw()?;
        for y in 0..ny {
            for x in 0..nx {
                let p = self.values[y as usize][x as usize];
                // Square-root scale so that small probabilities still show colour; a cell
                // that never ran dry is light grey, not white on the white page.
                let t = if max > 0.0 { (p / max).sqrt() } else { 0.0 };
                let colour = if p > 0.0 {
                    RGBColor(255, (245.0 - 190.0 * t) as u8, (245.0 - 210.0 * t) as u8)
                } else {
                    RGBColor(236, 236, 236)
                };
                let corners = [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ];
                chart.draw_series(std::iter::once(Rectangle::new(
                    corners.clone(),
                    colour.filled(),
                )))?;
                // A white rule between cells, so that equal neighbours still read as two.
                chart.draw_series(std::iter::once(Rectangle::new(
                    corners,
                    WHITE.stroke_width(2),
                )))?;
                chart.draw_series(std::iter::once(Text::new(
                    format_pct(p),
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    TextStyle::from((FONT, LABEL).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Center))
                        .color(if t > 0.7 { &WHITE } else { &BLACK }),
                )))?;
            }
        }
        Ok(())
    }
}

/// A grid cell's own estimate, drawn over the curve.
#[derive(Clone, Copy, Debug)]
pub struct CellEstimate {
    pub fund: f64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

/// P(depletion) against fund size, read off the runs' required capital, with its Wilson band,
/// the target line and the recommended size.
pub struct DepletionCurve {
    pub title: String,
    /// Fund sizes (USD), increasing.
    pub funds: Vec<f64>,
    pub p: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub runs: u64,
    pub target: f64,
    /// The `(1 - target)` quantile of required capital, when runs whose fund lasted give it.
    pub recommended: Option<f64>,
    /// Its one-sided 95% upper confidence bound, when the runs can resolve it.
    pub recommended_ub: Option<f64>,
    /// Where the quantile comes from when not from the curve's own runs: a cell's fund.
    pub recommended_from: Option<f64>,
    /// The fund the curve's runs had, when it ran dry too often for the target: past it a
    /// run's need stops growing (its fund is gone), so the curve there is a lower bound.
    pub exact_up_to: Option<f64>,
    pub cells: Vec<CellEstimate>,
}

impl Chart for DepletionCurve {
    fn name(&self) -> &'static str {
        "depletion_curve"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let x_max = match self.funds.last() {
            Some(&x) if self.funds.len() >= 2 && self.runs > 0 => x,
            _ => return draw_message(root, &self.title, "Not enough data for a curve."),
        };
        // Half a run's share, or under the target where the runs cannot reach it, so that
        // the target line is always on the chart.
        let floor = (0.5 / self.runs as f64).min(self.target / 2.0);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..x_max, (floor..1.0).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("Insurance fund at the start of the day (USD)")
            .y_desc("P(fund runs dry) (log scale)")
            .x_label_formatter(&|v| format_money(*v))
            .y_label_formatter(&|v| format_pct(*v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        self.draw_estimate(&mut chart, floor)?;
        self.draw_target_and_funds(&mut chart, floor, x_max)?;
        self.draw_cells(&mut chart, floor)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

impl DepletionCurve {
    /// The Wilson band and the curve itself; probabilities under `floor` are drawn at it.
    fn draw_estimate<DB: DrawingBackend>(
        &self,
        chart: &mut LogChart<'_, DB>,
        floor: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let clamp = |p: f64| p.max(floor);
        let band: Vec<(f64, f64)> = self
            .funds
            .iter()
            .zip(&self.hi)
            .map(|(&x, &h)| (x, clamp(h)))
            .chain(
                self.funds
                    .iter()
                    .zip(&self.lo)
                    .rev()
                    .map(|(&x, &l)| (x, clamp(l))),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.2).filled())))?
            .label("Wilson 95% band")
            .legend(|(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], BLUE.mix(0.2).filled()));
        chart
            .draw_series(LineSeries::new(
                self.funds.iter().zip(&self.p).map(|(&x, &p)| (x, clamp(p))),
                BLUE.stroke_width(3),
            ))?
            .label("P(depletion) from required capital")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
        Ok(())
    }

    /// The target line and the recommended fund with its upper bound.
    fn draw_target_and_funds<DB: DrawingBackend>(
        &self,
        chart: &mut LogChart<'_, DB>,
        floor: f64,
        x_max: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, self.target), (x_max, self.target)],
                10,
                6,
                DARK_RED.stroke_width(2),
            ))?
            .label(format!("Target {} a day", pct_short(self.target)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], DARK_RED.stroke_width(2)));
        let fund_line = |x: f64, colour: RGBColor| {
            DashedLineSeries::new([(x, floor), (x, 1.0)], 8, 6, colour.stroke_width(2))
        };
        if let Some(dry) = self.exact_up_to.filter(|&f| f <= x_max) {
            chart
                .draw_series(fund_line(dry, GREY))?
                .label(format!(
                    "These runs' fund {}: past it, a lower bound",
                    format_money(dry)
                ))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], GREY.stroke_width(2)));
        }
        let Some(recommended) = self.recommended else {
            return Ok(());
        };
        let from = self.recommended_from.map_or(String::new(), |f| {
            format!(" (cell with {})", format_money(f))
        });
        chart
            .draw_series(fund_line(recommended, GREEN))?
            .label(format!(
                "q{} of required capital{from}: {}",
                percentile(1.0 - self.target),
                format_money(recommended)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], GREEN.stroke_width(2)));
        if let Some(ub) = self.recommended_ub.filter(|&u| u <= x_max) {
            chart
                .draw_series(fund_line(ub, ORANGE))?
                .label(format!("95% upper bound: {}", format_money(ub)))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], ORANGE.stroke_width(2))
                });
        }
        Ok(())
    }

    /// The grid cells run with other funds, with their own intervals.
    fn draw_cells<DB: DrawingBackend>(&self, chart: &mut LogChart<'_, DB>, floor: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let clamp = |p: f64| p.max(floor);
        if !self.cells.is_empty() {
            for c in &self.cells {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(c.fund, clamp(c.lo)), (c.fund, clamp(c.hi))],
                    BLACK.stroke_width(2),
                )))?;
            }
            chart
                .draw_series(
                    self.cells
                        .iter()
                        .map(|c| Circle::new((c.fund, clamp(c.p)), 6, BLACK.filled())),
                )?
                .label("Grid cells run with that fund")
                .legend(|(x, y)| Circle::new((x + 12, y), 6, BLACK.filled()));
        }
        Ok(())
    }
}

/// Quantile bands of the fund balance over the day.
pub struct FundFan {
    pub title: String,
    pub hours: Vec<f64>,
    /// p5, p25, p50, p75, p95 at each hour.
    pub bands: Vec<FanBand>,
    pub initial: f64,
}

impl Chart for FundFan {
    fn name(&self) -> &'static str {
        "fund_fan"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let x_max = match self.hours.last() {
            Some(&x) if self.hours.len() >= 2 => x,
            _ => return draw_message(root, &self.title, "Not enough steps for a fan chart."),
        };
        let y_max = self
            .bands
            .iter()
            .map(|b| b.p95)
            .fold(self.initial, f64::max)
            .max(1.0)
            * 1.05;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc(hours_into(x_max))
            .y_desc("Insurance fund balance (USD)")
            .y_label_formatter(&|v| format_money(*v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        self.draw_bands(&mut chart)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, self.initial), (x_max, self.initial)],
                10,
                6,
                GREY.stroke_width(2),
            ))?
            .label(format!("Initial fund {}", format_money(self.initial)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], GREY.stroke_width(2)));
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}

impl FundFan {
    /// The 5-95 and 25-75 percentile bands and the median.
    fn draw_bands<DB: DrawingBackend>(&self, chart: &mut LinearChart<'_, DB>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let band = |lo: fn(&FanBand) -> f64, hi: fn(&FanBand) -> f64| -> Vec<(f64, f64)> {
            self.hours
                .iter()
                .zip(&self.bands)
                .map(|(&h, b)| (h, hi(b)))
                .chain(
                    self.hours
                        .iter()
                        .zip(&self.bands)
                        .rev()
                        .map(|(&h, b)| (h, lo(b))),
                )
                .collect()
        };
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(|b| b.p5, |b| b.p95),
                BLUE.mix(0.15).filled(),
            )))?
            .label("5th to 95th percentile")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 8), (x + 24, y + 8)], BLUE.mix(0.15).filled())
            });
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(|b| b.p25, |b| b.p75),
                BLUE.mix(0.35).filled(),
            )))?
            .label("25th to 75th percentile")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 8), (x + 24, y + 8)], BLUE.mix(0.35).filled())
            });
        chart
            .draw_series(LineSeries::new(
                self.hours.iter().zip(&self.bands).map(|(&h, b)| (h, b.p50)),
                BLUE.stroke_width(3),
            ))?
            .label("Median")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
        Ok(())
    }
}

/// Exceedance curve `P(X > x)` of a loss across runs, log scale.
pub struct Exceedance {
    pub title: String,
    pub x_desc: String,
    /// Sorted losses of every run (zeros included).
    pub sorted: Vec<f64>,
    /// Vertical markers (label, value), e.g. VaR95 and VaR99.
    pub markers: Vec<(String, f64)>,
}

impl Chart for Exceedance {
    fn name(&self) -> &'static str {
        "bad_debt_exceedance"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.sorted.len();
        let positive = self.sorted.iter().filter(|&&x| x > 0.0).count();
        if positive == 0 {
            return draw_message(
                root,
                &self.title,
                &format!("No run out of {n} had any bad debt."),
            );
        }
        let floor = 0.5 / n as f64;
        let x_max = self.sorted[n - 1] * 1.02;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..x_max, (floor..1.0).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("Share of days exceeding it (log scale)")
            .x_label_formatter(&|v| format_money(*v))
            .y_label_formatter(&|v| format_pct(*v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        // Step function: after the i-th smallest value, n - i - 1 runs exceed.
        let mut pts = Vec::with_capacity(2 * n.min(2_000));
        let mut prev = 0.0;
        for i in thinned(n, 500, 2_000) {
            let x = self.sorted[i];
            let above = (n - i) as f64 / n as f64;
            pts.push((prev, above));
            pts.push((x, above));
            prev = x;
        }
        pts.push((prev, floor));
        chart
            .draw_series(LineSeries::new(pts, BLUE.stroke_width(3)))?
            .label(format!("{n} simulated days"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
        for (i, (label, v)) in self.markers.iter().enumerate() {
            let colour = if i == 0 { ORANGE } else { DARK_RED };
            chart
                .draw_series(DashedLineSeries::new(
                    [(*v, floor), (*v, 1.0)],
                    8,
                    6,
                    colour.stroke_width(2),
                ))?
                .label(format!("{label}: {}", format_money(*v)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// Histogram of a per-run amount (share of runs per bin).
pub struct Histogram {
    pub title: String,
    pub x_desc: String,
    pub values: Vec<f64>,
    pub bins: usize,
}

impl Chart for Histogram {
    fn name(&self) -> &'static str {
        "slippage_histogram"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.values.len();
        let (lo, hi) = self
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if n == 0 || hi <= lo {
            let msg = if n == 0 {
                "No runs.".to_string()
            } else {
                format!(
                    "Every one of the {n} runs lost exactly {}.",
                    format_money(lo)
                )
            };
            return draw_message(root, &self.title, &msg);
        }
        let width = (hi - lo) / self.bins as f64;
        let mut counts = vec![0u64; self.bins];
        for &x in &self.values {
            counts[(((x - lo) / width) as usize).min(self.bins - 1)] += 1;
        }
        let y_max = counts.iter().copied().max().unwrap_or(1) as f64 / n as f64 * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d(lo..hi, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc("Share of simulated days")
            .x_label_formatter(&|v| format_money(*v))
            .y_label_formatter(&|v| format_pct(*v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                let x0 = lo + i as f64 * width;
                Rectangle::new(
                    [(x0, 0.0), (x0 + width, c as f64 / n as f64)],
                    BLUE.mix(0.7).filled(),
                )
            }))?
            .label(format!("{n} simulated days, {} bins", self.bins))
            .legend(|(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], BLUE.mix(0.7).filled()));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// Complementary CDF of cascade sizes on log-log axes.
pub struct CascadeCcdf {
    pub title: String,
    /// Largest cascade of each run (USD); zeros (no cascade) are left out of the curve.
    pub sizes: Vec<f64>,
}

impl Chart for CascadeCcdf {
    fn name(&self) -> &'static str {
        "cascade_ccdf"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let mut xs: Vec<f64> = self.sizes.iter().copied().filter(|&x| x > 0.0).collect();
        let n = self.sizes.len();
        if xs.len() < 2 {
            return draw_message(
                root,
                &self.title,
                &format!("Fewer than two of {n} runs had a liquidation."),
            );
        }
        xs.sort_by(f64::total_cmp);
        let m = xs.len();
        let floor = 0.5 / n as f64;
        // Whole decades, so the log axis always carries at least two labelled ticks.
        let x0 = 10f64.powf(xs[0].log10().floor());
        let x1 = 10f64.powf(xs[m - 1].log10().ceil()).max(x0 * 10.0);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .margin_right(55) // room for the last decade's label
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d((x0..x1).log_scale(), (floor..1.0).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("Notional liquidated in the day's largest cascade (USD, log scale)")
            .y_desc("Share of days with a larger one (log)")
            .x_labels(12)
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&|v| format_money(*v))
            .y_label_formatter(&|v| format_pct(*v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .draw()?;
        chart
            .draw_series(thinned(m, 300, 1_500).map(|i| {
                Circle::new(
                    (xs[i], ((m - i) as f64 / n as f64).max(floor)),
                    3,
                    BLUE.filled(),
                )
            }))?
            .label(format!("{m} of {n} days had a cascade"))
            .legend(|(x, y)| Circle::new((x + 12, y), 4, BLUE.filled()));
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}

/// One day step by step: index and mark with liquidations marked, the fund beneath.
pub struct SamplePathChart {
    pub title: String,
    pub hours: Vec<f64>,
    pub index: Vec<f64>,
    pub mark: Vec<f64>,
    /// A lending market's oracle, the price its health factors read (empty for a perp).
    pub oracle: Vec<f64>,
    /// The market the prices are of, named when the run has several.
    pub market: Option<String>,
    pub fund: Vec<f64>,
    /// (hour, mark, notional) of steps with liquidations.
    pub liquidations: Vec<(f64, f64, f64)>,
}

impl Chart for SamplePathChart {
    fn name(&self) -> &'static str {
        "sample_path"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let x_max = match self.hours.last() {
            Some(&x) if self.hours.len() >= 2 => x,
            _ => return draw_message(root, &self.title, "Not enough steps for a path."),
        };
        let root = root
            .margin(12, 0, 0, 0)
            .titled(&self.title, title_style())?;
        let (upper, lower) = root.split_vertically((HEIGHT as f64 * 0.58) as u32);
        self.draw_prices(&upper, x_max)?;
        self.draw_fund(&lower, x_max)
    }
}

impl SamplePathChart {
    /// The upper panel: mark, index and the liquidations.
    fn draw_prices<DB: DrawingBackend>(
        &self,
        upper: &DrawingArea<DB, Shift>,
        x_max: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (p_lo, p_hi) = self
            .index
            .iter()
            .chain(&self.mark)
            .chain(&self.oracle)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let of = self
            .market
            .as_ref()
            .map_or(String::new(), |m| format!(" of {m}"));
        let pad = (p_hi - p_lo).max(p_hi * 1e-3) * 0.05;
        let mut top = ChartBuilder::on(upper)
            .margin(15)
            .x_label_area_size(10)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..x_max, (p_lo - pad)..(p_hi + pad))?;
        top.configure_mesh()
            .y_desc("Price (USD)")
            .x_labels(0)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        top.draw_series(LineSeries::new(
            self.hours.iter().copied().zip(self.mark.iter().copied()),
            BLUE.stroke_width(3),
        ))?
        .label(if self.oracle.is_empty() {
            format!("Mark{of} (this venue)")
        } else {
            format!("Book{of} (where seized collateral sells)")
        })
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
        top.draw_series(LineSeries::new(
            self.hours.iter().copied().zip(self.index.iter().copied()),
            BLACK.stroke_width(1),
        ))?
        .label(format!("Index{of} (outside world)"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(1)));
        if !self.oracle.is_empty() {
            top.draw_series(LineSeries::new(
                self.hours.iter().copied().zip(self.oracle.iter().copied()),
                ORANGE.stroke_width(2),
            ))?
            .label(format!("Oracle{of} (what loans are valued at)"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], ORANGE.stroke_width(2)));
        }
        let biggest = self.liquidations.iter().map(|l| l.2).fold(0.0, f64::max);
        top.draw_series(self.liquidations.iter().map(|&(h, p, notional)| {
            let r = 3.0 + 9.0 * (notional / biggest.max(1.0)).sqrt();
            Circle::new((h, p), r as i32, DARK_RED.mix(0.6).filled())
        }))?
        .label("Liquidations (area ~ notional)")
        .legend(|(x, y)| Circle::new((x + 12, y), 6, DARK_RED.mix(0.6).filled()));
        let path = self
            .hours
            .iter()
            .copied()
            .zip(self.mark.iter().copied())
            .chain(self.hours.iter().copied().zip(self.index.iter().copied()))
            .chain(self.hours.iter().copied().zip(self.oracle.iter().copied()));
        let corner = emptiest_corner(path, (0.0, x_max), (p_lo - pad, p_hi + pad));
        draw_legend(&mut top, corner)
    }

    /// The lower panel: the fund's balance.
    fn draw_fund<DB: DrawingBackend>(
        &self,
        lower: &DrawingArea<DB, Shift>,
        x_max: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let f_max = self.fund.iter().copied().fold(1.0, f64::max) * 1.08;
        let mut bottom = ChartBuilder::on(lower)
            .margin(15)
            .x_label_area_size(60)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..x_max, 0.0..f_max)?;
        bottom
            .configure_mesh()
            .x_desc(hours_into(x_max))
            .y_desc("Fund (USD)")
            // A short panel: more labels than this overlap.
            .y_labels(5)
            .y_label_formatter(&|v| format_money(*v))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        bottom
            .draw_series(
                AreaSeries::new(
                    self.hours.iter().copied().zip(self.fund.iter().copied()),
                    0.0,
                    GREEN.mix(0.25),
                )
                .border_style(GREEN.stroke_width(2)),
            )?
            .label("Insurance fund balance")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 8), (x + 24, y + 8)], GREEN.mix(0.25).filled())
            });
        let line = self.hours.iter().copied().zip(self.fund.iter().copied());
        let corner = emptiest_corner(line, (0.0, x_max), (0.0, f_max));
        draw_legend(&mut bottom, corner)
    }
}

/// One side of a market on the liquidation map: its name and its notional per bucket (the
/// closest to liquidation first) at t = 0 and at the worst step.
pub struct MapSide {
    pub name: String,
    pub colour: MapColour,
    pub start: Vec<f64>,
    pub worst: Option<Vec<f64>>,
}

/// The colour a side is drawn in.
#[derive(Clone, Copy, Debug)]
pub enum MapColour {
    Long,
    Short,
    Loan,
}

impl MapColour {
    fn rgb(self) -> RGBColor {
        match self {
            MapColour::Long => BLUE,
            MapColour::Short => ORANGE,
            MapColour::Loan => GREEN,
        }
    }
}

/// One market's panel: a perp market's longs drawn to the left and shorts to the right, a
/// lending market's loans to the right alone.
pub struct MapPanel {
    pub market: String,
    pub left: Option<MapSide>,
    pub right: MapSide,
}

/// Open notional by distance to liquidation, buckets down the y axis (the closest on top),
/// each with a solid bar at t = 0 and a pale one at the worst step.
pub struct LiquidationMapChart {
    pub title: String,
    /// Bucket labels, the closest to liquidation first.
    pub buckets: Vec<String>,
    /// How the worst step is named in the legend, e.g. `after step 812`.
    pub worst_name: String,
    pub panels: Vec<MapPanel>,
}

impl Chart for LiquidationMapChart {
    fn name(&self) -> &'static str {
        "liquidation_map"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let x_max = self
            .panels
            .iter()
            .flat_map(|p| p.left.iter().chain(std::iter::once(&p.right)))
            .flat_map(|s| s.start.iter().chain(s.worst.iter().flatten()))
            .copied()
            .fold(0.0, f64::max);
        if self.panels.is_empty() || self.buckets.is_empty() || x_max <= 0.0 {
            return draw_message(root, &self.title, "No open position to map.");
        }
        let root = root
            .margin(12, 0, 0, 0)
            .titled(&self.title, title_style())?;
        if let [panel] = self.panels.as_slice() {
            return self.draw_panel(panel, &root, x_max * 1.08, true);
        }
        // Several markets: a panel each, and one legend beneath them all.
        let (_, h) = root.dim_in_pixel();
        let (plots, strip) = root.split_vertically(h.saturating_sub(44));
        let areas = plots.split_evenly((1, self.panels.len()));
        for (k, (panel, area)) in self.panels.iter().zip(&areas).enumerate() {
            self.draw_panel(panel, area, x_max * 1.08, k == 0)?;
        }
        self.draw_legend_strip(&strip)
    }
}

impl LiquidationMapChart {
    /// One market's panel; `first` carries the y axis's name (and, alone, the legend).
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &MapPanel,
        area: &DrawingArea<DB, Shift>,
        x_max: f64,
        first: bool,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.buckets.len();
        let alone = self.panels.len() == 1;
        let x_min = if panel.left.is_some() { -x_max } else { 0.0 };
        let mut builder = ChartBuilder::on(area);
        if !alone {
            builder.caption(format!("Market {}", panel.market), (FONT, LABEL));
        }
        let mut chart = builder
            .margin(15)
            .margin_right(30)
            .x_label_area_size(70)
            .y_label_area_size(match (alone, first) {
                (true, _) => 150,
                (false, true) => 140,
                (false, false) => 100,
            })
            .build_cartesian_2d(x_min..x_max, -0.5..(n as f64 - 0.5))?;
        // Bucket i (0 the closest) sits at y = n - 1 - i, so the closest is on top.
        let labels = self.buckets.clone();
        let label_of = move |y: &f64| {
            let r = y.round();
            if (y - r).abs() > 1e-6 || r < 0.0 || r as usize >= n {
                return String::new();
            }
            labels[n - 1 - r as usize].clone()
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(x_desc(panel, alone))
            .y_desc(if first {
                "Move of the price to liquidation"
            } else {
                ""
            })
            .y_labels(n)
            .x_labels(if alone { 9 } else { 4 })
            .y_label_formatter(&label_of)
            .x_label_formatter(&|v| tick_money(v.abs()))
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (side, sign) in panel
            .left
            .iter()
            .map(|s| (s, -1.0))
            .chain(std::iter::once((&panel.right, 1.0)))
        {
            self.draw_side(&mut chart, side, sign)?;
        }
        if panel.left.is_some() {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                BLACK.stroke_width(1),
            )))?;
        }
        if alone {
            draw_legend(&mut chart, legend_corner(&panel.right))?;
        }
        Ok(())
    }

    /// One side's bars, to the left (`sign` -1) or the right: with a worst step, t = 0 in
    /// the upper half of each bucket's band and the worst step in the lower half; without
    /// one, t = 0 across the band.
    fn draw_side<DB: DrawingBackend>(
        &self,
        chart: &mut LinearChart<'_, DB>,
        side: &MapSide,
        sign: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.buckets.len();
        let colour = side.colour.rgb();
        let y_of = |i: usize| (n - 1 - i) as f64;
        let (lo, hi) = if side.worst.is_some() {
            (0.02, 0.4)
        } else {
            (-0.3, 0.3)
        };
        chart
            .draw_series(
                side.start
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(i, &v)| {
                        let y = y_of(i);
                        Rectangle::new([(0.0, y + lo), (sign * v, y + hi)], colour.filled())
                    }),
            )?
            .label(format!("{} at t = 0", side.name))
            .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], colour.filled()));
        if let Some(worst) = &side.worst {
            chart
                .draw_series(
                    worst
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v > 0.0)
                        .flat_map(|(i, &v)| {
                            let y = y_of(i);
                            let corners = [(0.0, y - 0.4), (sign * v, y - 0.02)];
                            [
                                Rectangle::new(corners, colour.mix(0.3).filled()),
                                Rectangle::new(corners, colour.stroke_width(1)),
                            ]
                        }),
                )?
                .label(format!("{} {}", side.name, self.worst_name))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 8), (x + 24, y + 8)], colour.mix(0.3).filled())
                });
        }
        Ok(())
    }

    /// The legend of several panels, in one row beneath them: each kind of side once, at
    /// t = 0 and at the worst step.
    fn draw_legend_strip<DB: DrawingBackend>(&self, strip: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let mut entries: Vec<(RGBColor, bool, String)> = Vec::new();
        for panel in &self.panels {
            for side in panel.left.iter().chain(std::iter::once(&panel.right)) {
                let colour = side.colour.rgb();
                if entries.iter().any(|e| e.0 == colour) {
                    continue;
                }
                entries.push((colour, true, format!("{}, t = 0", side.name)));
                if side.worst.is_some() {
                    let when = self.worst_name.trim_start_matches("after ");
                    entries.push((colour, false, format!("{}, {when}", side.name)));
                }
            }
        }
        // Box, gap, text, space, laid out one after another and centred; a smaller font
        // when the row would not fit.
        let (w, _) = strip.dim_in_pixel();
        let layout = |size: u32| {
            let style =
                TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            let widths: Vec<i32> = entries
                .iter()
                .map(|e| {
                    let text = strip
                        .estimate_text_size(&e.2, &style)
                        .map_or(size * e.2.len() as u32 / 2, |(w, _)| w);
                    24 + 6 + text as i32 + 20
                })
                .collect();
            (style, widths)
        };
        let (style, widths) = [TICK, 16, 14]
            .into_iter()
            .map(layout)
            .find(|(_, widths)| widths.iter().sum::<i32>() <= w as i32 - 8)
            .unwrap_or_else(|| layout(13));
        let mut x = ((w as i32 - widths.iter().sum::<i32>()) / 2).max(4);
        for ((colour, solid, label), width) in entries.iter().zip(widths) {
            let fill: RGBAColor = if *solid {
                colour.to_rgba()
            } else {
                colour.mix(0.3)
            };
            strip.draw(&Rectangle::new([(x, 12), (x + 24, 28)], fill.filled()))?;
            strip.draw(&Text::new(label.clone(), (x + 30, 20), style.clone()))?;
            x += width;
        }
        Ok(())
    }
}

/// A tick's amount without trailing zeros: `$40M`, `$2.50M`, `$750.0k`.
fn tick_money(x: f64) -> String {
    let s = format_money(x);
    match s.strip_suffix(".00M") {
        Some(whole) => format!("{whole}M"),
        None => s,
    }
}

/// The x axis's name of a panel: which side is drawn where (shorter beside other panels).
fn x_desc(panel: &MapPanel, alone: bool) -> String {
    let right = panel.right.name.to_lowercase();
    match (&panel.left, alone) {
        (Some(l), true) => format!(
            "Notional (USD): {} to the left, {right} to the right",
            l.name.to_lowercase()
        ),
        (Some(l), false) => format!("{} | {right} (USD)", l.name.to_lowercase()),
        (None, _) => format!("Debt of {right} (USD)"),
    }
}

/// Where a lone panel's legend hides the least: beside the closest buckets or the
/// furthest, whichever carry the shorter bars on the right.
fn legend_corner(right: &MapSide) -> SeriesLabelPosition {
    let longest = |range: std::ops::Range<usize>| {
        right
            .start
            .iter()
            .chain(right.worst.iter().flatten())
            .enumerate()
            .filter(|(i, _)| range.contains(&(i % right.start.len().max(1))))
            .map(|(_, &v)| v)
            .fold(0.0, f64::max)
    };
    let n = right.start.len();
    if longest(n.saturating_sub(4)..n) <= longest(0..4) {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// The x axis of a chart over a run's hours: "the day" for a run of a day or less (R1, R2),
/// "the run" for a longer one.
pub fn hours_into(x_max: f64) -> &'static str {
    if x_max <= 24.0 {
        "Hours into the day"
    } else {
        "Hours into the run"
    }
}

/// "day" or "run", as [`hours_into`] words it.
pub fn horizon_word(x_max: f64) -> &'static str {
    if x_max <= 24.0 { "day" } else { "run" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legend_goes_to_the_corner_the_lines_leave_empty() {
        // A path that starts in the lower left (30 points there), climbs (11 in the upper
        // left) and stays high (40 in the upper right): the lower right is empty.
        let crash: Vec<(f64, f64)> = (0..100)
            .map(|i| (i as f64, if i < 30 { 5.0 } else { 95.0 }))
            .collect();
        let corner = emptiest_corner(crash.iter().copied(), (0.0, 100.0), (0.0, 100.0));
        assert!(
            matches!(corner, SeriesLabelPosition::LowerRight),
            "{corner:?}"
        );
        // The same path upside down: it starts high and stays low, so the upper right is.
        let fall: Vec<(f64, f64)> = crash.iter().map(|&(x, y)| (x, 100.0 - y)).collect();
        let corner = emptiest_corner(fall.iter().copied(), (0.0, 100.0), (0.0, 100.0));
        assert!(
            matches!(corner, SeriesLabelPosition::UpperRight),
            "{corner:?}"
        );
        // Nothing in any corner: the first choice, lower left.
        let flat = [(50.0, 50.0)];
        let corner = emptiest_corner(flat.iter().copied(), (0.0, 100.0), (0.0, 100.0));
        assert!(
            matches!(corner, SeriesLabelPosition::LowerLeft),
            "{corner:?}"
        );
    }

    #[test]
    fn thinning_keeps_the_tail_and_bounds_the_count() {
        let kept: Vec<usize> = thinned(10_000, 500, 2_000).collect();
        assert!(kept.len() <= 2_100, "{}", kept.len());
        assert!(kept.ends_with(&(9_500..10_000).collect::<Vec<_>>()));
        assert_eq!(kept[0], 0);
        assert_eq!(thinned(10, 500, 2_000).count(), 10);
    }
}
