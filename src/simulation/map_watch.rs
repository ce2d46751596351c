//! Watching one run for its liquidation map: how much open notional sits how far from
//! liquidation at t = 0, and at the run's worst step.
//!
//! **The worst step is the step of the largest cascade**: the step whose forced closes, over
//! all markets, liquidated the most notional (the first such step on a tie), the map taken
//! after that step, at its closing mark (a lending market's oracle). It is chosen over the
//! step of the fund's lowest balance because it is always a moment of stress when the run
//! liquidated anything (the fund's low is t = 0 itself on a day whose penalties outran its
//! deficits), because it is the moment the book's near edge decides whether the cascade goes
//! on (what it left within 1% or 2% is what the next steps reach), and because it is found as
//! the run goes: the map is redrawn only when a step beats the largest so far, a handful of
//! times a run, whereas a fund paying a carry sets a new low at every step. A run without a
//! liquidation has no worst step.

use super::view::{RunObserver, StepView};
use crate::protocol::LiquidationMap;

/// When a map was drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MapMoment {
    /// t = 0, before the first step.
    Start,
    /// After the step of the run's largest cascade.
    WorstStep,
}

impl MapMoment {
    pub const ALL: [Self; 2] = [Self::Start, Self::WorstStep];

    /// As the table writes it: `start`, `worst_step`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::WorstStep => "worst_step",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.label() == label)
    }
}

/// The maps of one moment: its step and each market's map (market order).
#[derive(Clone, Debug, PartialEq)]
pub struct MomentMaps {
    pub moment: MapMoment,
    pub step: u64,
    /// The notional the step liquidated (0 at t = 0).
    pub liquidated_notional: f64,
    pub maps: Vec<LiquidationMap>,
}

/// Records the liquidation map of a run at t = 0 and after its largest cascade. Memory is
/// two maps per market, whatever the run's length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapWatch {
    pub start: Option<MomentMaps>,
    pub worst: Option<MomentMaps>,
}

impl MapWatch {
    /// The moments recorded, in order.
    pub fn moments(&self) -> impl Iterator<Item = &MomentMaps> {
        self.start.iter().chain(&self.worst)
    }
}

impl RunObserver for MapWatch {
    fn on_step(&mut self, _: &StepView) {}

    fn wants_map(&self, view: &StepView) -> bool {
        let largest = self.worst.as_ref().map_or(0.0, |w| w.liquidated_notional);
        view.step == 0 || view.liquidated_notional > largest
    }

    fn on_map(&mut self, view: &StepView, maps: Vec<LiquidationMap>) {
        let (moment, slot) = if view.step == 0 {
            (MapMoment::Start, &mut self.start)
        } else {
            (MapMoment::WorstStep, &mut self.worst)
        };
        *slot = Some(MomentMaps {
            moment,
            step: view.step,
            liquidated_notional: view.liquidated_notional,
            maps,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ExposureSide;

    /// The map is drawn at t = 0 and again at each step that beats the largest cascade so
    /// far; the last of those is the worst step, the first on a tie.
    #[test]
    fn the_worst_step_is_the_largest_cascade() {
        let mut watch = MapWatch::default();
        let mut drawn = Vec::new();
        for (step, liquidated) in [(0, 0.0), (1, 0.0), (2, 5.0), (3, 9.0), (4, 9.0), (5, 2.0)] {
            let view = StepView {
                step,
                liquidated_notional: liquidated,
                ..StepView::default()
            };
            watch.on_step(&view);
            if watch.wants_map(&view) {
                drawn.push(step);
                watch.on_map(&view, vec![LiquidationMap::new(&[ExposureSide::Long])]);
            }
        }
        assert_eq!(drawn, vec![0, 2, 3]);
        let moments: Vec<_> = watch.moments().map(|m| (m.moment, m.step)).collect();
        assert_eq!(
            moments,
            vec![(MapMoment::Start, 0), (MapMoment::WorstStep, 3)]
        );
        assert_eq!(
            MapMoment::from_label("worst_step"),
            Some(MapMoment::WorstStep)
        );
    }
}
