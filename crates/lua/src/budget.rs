//! The frame budget: how long Lua may take, as data (shown to the user, testable), and the judge that turns a run of
//! frames over it into a verdict against the module whose own code spent the time.
//!
//! Lua time per module comes from samples of the running code (see interrupt.rs): a module's share of a frame's
//! Lua time is its share of the frame's samples. A caller that only calls a slow module is never the one judged.

use std::collections::HashMap;
use std::time::Duration;

/// The frame budget and the limits the watchdog enforces: data, shown to the user, and testable.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// The display period: Lua callbacks of one frame should fit in it (1/60 s; 1/90 or 1/120 for VR).
    pub period: Duration,
    /// One callback running past this is stopped by the watchdog (a hard overrun) and its module reverted.
    pub hard: Duration,
    /// A module's top level (and a console evaluation) running past this is stopped.
    pub load: Duration,
    /// Consecutive frames whose callbacks took longer than the period before a warning...
    pub warn_after: u32,
    /// ...before `update` is throttled (called every other frame, with the time it missed; `draw` still runs every
    /// frame, so the picture keeps coming)...
    pub throttle_after: u32,
    /// ...and before the module is reverted to its last good version (or disabled).
    pub revert_after: u32,
    /// The VM's memory limit, in bytes: allocations past it fail with a memory error.
    pub memory: usize,
}

impl Budget {
    /// The budget for a display running at `hz`.
    pub fn for_rate(hz: f64) -> Budget {
        let period = Duration::from_secs_f64(1.0 / hz.clamp(1.0, 1000.0));
        Budget {
            period,
            hard: period * 8,
            load: Duration::from_secs(2),
            warn_after: 3,
            throttle_after: 10,
            revert_after: 30,
            memory: 1 << 30,
        }
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::for_rate(60.0)
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "frame {:.1} ms; a callback past {:.0} ms is stopped; over the frame for {} frames in a row: warning, \
             for {}: update throttled to every other frame, for {}: revert; a top level past {:.0} ms is stopped; \
             memory limit {} MiB",
            ms(self.period),
            ms(self.hard),
            self.warn_after,
            self.throttle_after,
            self.revert_after,
            ms(self.load),
            self.memory >> 20
        )
    }
}

/// What the judge says about a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Within the budget, or not yet long enough over it to say anything.
    Fine,
    /// Over the budget for `warn_after` frames in a row: `culprit` spent most of the time.
    Warn { culprit: usize, took: Duration, frames: u32 },
    /// Over it for `throttle_after` frames: `update` runs every other frame from now on.
    Throttle { culprit: usize, frames: u32 },
    /// Over it for `revert_after` frames: revert `culprit` (or disable it when no earlier version ran).
    Revert { culprit: usize, took: Duration, frames: u32 },
}

/// Consecutive frames over the budget, and each module's own Lua time over them.
#[derive(Default)]
pub struct Overrun {
    frames: u32,
    by_module: HashMap<usize, Duration>,
}

impl Overrun {
    /// Judges a frame whose callbacks took `took` of Lua time, of which each module's own code spent what
    /// `by_module` says (modules by index; time no sample could place counts for `fallback`, the module whose
    /// callback the engine called).
    pub fn frame(
        &mut self,
        budget: &Budget,
        took: Duration,
        by_module: &[(usize, Duration)],
        fallback: usize,
    ) -> Verdict {
        if took <= budget.period {
            *self = Overrun::default();
            return Verdict::Fine;
        }
        self.frames += 1;
        let placed: Duration = by_module.iter().map(|(_, d)| *d).sum();
        for (module, d) in by_module {
            *self.by_module.entry(*module).or_default() += *d;
        }
        *self.by_module.entry(fallback).or_default() += took.saturating_sub(placed);
        let culprit = self.culprit().unwrap_or(fallback);
        let frames = self.frames;
        if frames == budget.warn_after {
            Verdict::Warn { culprit, took, frames }
        } else if frames == budget.throttle_after {
            Verdict::Throttle { culprit, frames }
        } else if frames >= budget.revert_after {
            *self = Overrun::default();
            Verdict::Revert { culprit, took, frames }
        } else {
            Verdict::Fine
        }
    }

    /// The module whose own code took the most time over the frames so far.
    pub fn culprit(&self) -> Option<usize> {
        self.by_module.iter().max_by_key(|(i, d)| (**d, std::cmp::Reverse(**i))).map(|(i, _)| *i)
    }

    /// Consecutive frames over the budget so far.
    pub fn frames(&self) -> u32 {
        self.frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_whose_own_code_spent_the_time_is_judged_not_its_caller() {
        let budget = Budget { warn_after: 2, throttle_after: 3, revert_after: 4, ..Budget::for_rate(60.0) };
        let mut overrun = Overrun::default();
        let (main, slow) = (0, 1);
        let frame = [(main, Duration::from_millis(1)), (slow, Duration::from_millis(29))];
        let took = Duration::from_millis(30);
        assert_eq!(overrun.frame(&budget, took, &frame, main), Verdict::Fine);
        assert_eq!(overrun.frame(&budget, took, &frame, main), Verdict::Warn { culprit: slow, took, frames: 2 });
        assert_eq!(overrun.frame(&budget, took, &frame, main), Verdict::Throttle { culprit: slow, frames: 3 });
        assert_eq!(overrun.frame(&budget, took, &frame, main), Verdict::Revert { culprit: slow, took, frames: 4 });
        assert_eq!(overrun.frames(), 0, "a verdict starts the count again");
        // Time no sample placed counts for the module the engine called.
        assert_eq!(overrun.frame(&budget, took, &[], main), Verdict::Fine);
        assert_eq!(overrun.culprit(), Some(main));
        assert_eq!(overrun.frame(&budget, Duration::from_millis(5), &[], main), Verdict::Fine);
        assert_eq!(overrun.frames(), 0, "a frame within the budget ends the run");
    }
}
