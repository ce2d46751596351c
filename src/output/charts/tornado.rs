//! The tornado chart of what drives the fund: one bar per variant, from the fund the scenario
//! as written needs to the fund the variant needs, the largest moves on top.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Chart, DARK_RED, DrawResult, FONT, GREEN, LABEL, TICK, draw_message, format_money,
    signed_money, title_style,
};

/// A point of the chart: a fund on the x axis, a variant's row on the y axis.
type RowPoint = (f64, SegmentValue<i32>);

/// One variant: its label (`book depth: halved`) and the fund it needs.
#[derive(Clone, Debug)]
pub struct TornadoBar {
    pub label: String,
    pub value: f64,
}

/// The fund each variant needs beside the scenario as written's.
pub struct Tornado {
    pub title: String,
    /// The fund the scenario as written needs.
    pub base: f64,
    /// The variants, drawn top to bottom by the size of their move.
    pub bars: Vec<TornadoBar>,
    pub x_desc: String,
}

impl Tornado {
    /// The bars, largest move first.
    fn ordered(&self) -> Vec<&TornadoBar> {
        let mut bars: Vec<&TornadoBar> = self.bars.iter().collect();
        bars.sort_by(|a, b| {
            (b.value - self.base)
                .abs()
                .total_cmp(&(a.value - self.base).abs())
        });
        bars
    }

    /// One variant's bar, from the fund as written to the variant's (red for a rise, green
    /// for a fall), and its label beside the bar's right end: after the bar for a rise, after
    /// the line of the scenario as written for a fall, so no text runs into the axis.
    fn bar_elements(
        &self,
        row: i32,
        bar: &TornadoBar,
        pad: f64,
    ) -> (Rectangle<RowPoint>, Text<'static, RowPoint, String>) {
        let colour = if bar.value > self.base {
            DARK_RED
        } else {
            GREEN
        };
        let mut rect = Rectangle::new(
            [
                (self.base, SegmentValue::Exact(row)),
                (bar.value, SegmentValue::Exact(row + 1)),
            ],
            colour.mix(0.75).filled(),
        );
        rect.set_margin(8, 8, 0, 0);
        let change = bar.value - self.base;
        let x = bar.value.max(self.base) + pad * 0.04;
        let label = Text::new(
            format!("{} ({})", format_money(bar.value), signed_money(change)),
            (x, SegmentValue::CenterOf(row)),
            TextStyle::from((FONT, TICK).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
        );
        (rect, label)
    }
}

impl Chart for Tornado {
    fn name(&self) -> &'static str {
        "drivers"
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let bars = self.ordered();
        let n = bars.len() as i32;
        if n == 0 {
            return draw_message(root, &self.title, "No assumption to move.");
        }
        let lo = bars.iter().map(|b| b.value).fold(self.base, f64::min);
        let hi = bars.iter().map(|b| b.value).fold(self.base, f64::max);
        // Room on the right for the values written beside the bars.
        let pad = ((hi - lo) * 0.3).max(self.base.abs() * 0.05).max(1.0);
        let (x_min, x_max) = ((lo - pad * 0.2).max(0.0), hi + pad);
        let labels: Vec<String> = bars.iter().rev().map(|b| b.label.clone()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(290)
            .build_cartesian_2d(x_min..x_max, (0..n - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(&self.x_desc)
            .y_labels(n as usize)
            .x_label_formatter(&|v| format_money(*v))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .axis_desc_style((FONT, LABEL))
            .label_style((FONT, TICK))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        // Row 0 is at the bottom: the largest move goes to the top row.
        for (row, bar) in bars.iter().rev().enumerate() {
            let (rect, label) = self.bar_elements(row as i32, bar, pad);
            chart.draw_series(std::iter::once(rect))?;
            chart.draw_series(std::iter::once(label))?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    (self.base, SegmentValue::Exact(0)),
                    (self.base, SegmentValue::Exact(n)),
                ],
                BLACK.stroke_width(2),
            )))?
            .label(format!("as written: {}", format_money(self.base)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, TICK))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        Ok(())
    }
}
