//! Values modules expose to the editor's tweak bar with `tweak(name, default, opts)` (the Lua side is in
//! prelude.lua): read for the bar, set from it.

use mlua::Table;

use super::{HOST_KEY, ModuleHost};
use crate::api::Graphics;

impl<G: Graphics + 'static> ModuleHost<G> {
    /// A number that changes when a module exposes a new value with `tweak(...)` (cheap: read every frame).
    pub fn exposed_version(&self) -> u64 {
        let read = || -> mlua::Result<u64> {
            let host: Table = self.lua.named_registry_value(HOST_KEY)?;
            host.get::<Table>("tweaks")?.get("version")
        };
        read().unwrap_or(0)
    }

    /// The values modules exposed with `tweak(...)`, and a number that changes when one is added.
    pub fn exposed(&self) -> (u64, Vec<Exposed>) {
        let read = || -> mlua::Result<(u64, Vec<Exposed>)> {
            let host: Table = self.lua.named_registry_value(HOST_KEY)?;
            let tweaks: Table = host.get("tweaks")?;
            let version: u64 = tweaks.get("version")?;
            let values: Table = tweaks.get("values")?;
            let specs: Table = tweaks.get("specs")?;
            let order: Table = tweaks.get("order")?;
            let mut out = Vec::new();
            for name in order.sequence_values::<String>() {
                let name = name?;
                let spec: Option<Table> = specs.get(name.as_str()).ok();
                let num = |k: &str| spec.as_ref().and_then(|s| s.get::<Option<f64>>(k).ok().flatten());
                let (values, boolean) = match values.get::<mlua::Value>(name.as_str())? {
                    mlua::Value::Boolean(b) => (vec![f64::from(b)], true),
                    mlua::Value::Table(t) => (t.sequence_values::<f64>().filter_map(Result::ok).collect(), false),
                    mlua::Value::Integer(i) => (vec![i as f64], false),
                    mlua::Value::Number(n) => (vec![n], false),
                    _ => (Vec::new(), false),
                };
                let range = match (num("min"), num("max")) {
                    (Some(lo), Some(hi)) => Some((lo, hi)),
                    (Some(lo), None) => Some((lo, lo.max(1.0))),
                    (None, Some(hi)) => Some((hi.min(0.0), hi)),
                    _ => None,
                };
                let colour =
                    spec.as_ref().and_then(|s| s.get::<Option<bool>>("colour").ok().flatten()).unwrap_or(false);
                out.push(Exposed { name, values, boolean, range, step: num("step"), colour });
            }
            Ok((version, out))
        };
        read().unwrap_or_default()
    }

    /// Sets a value exposed with `tweak(...)` (the tweak bar). False when there is no such value or the new one
    /// does not fit it.
    pub fn set_exposed(&self, name: &str, values: &[f64]) -> bool {
        let set = || -> mlua::Result<bool> {
            let host: Table = self.lua.named_registry_value(HOST_KEY)?;
            let current: Table = host.get::<Table>("tweaks")?.get("values")?;
            let value = match (current.get::<mlua::Value>(name)?, values) {
                (mlua::Value::Boolean(_), [v]) => mlua::Value::Boolean(*v != 0.0),
                (mlua::Value::Number(_) | mlua::Value::Integer(_), [v]) => mlua::Value::Number(*v),
                (mlua::Value::Table(t), vs) if t.raw_len() == vs.len() => {
                    for (i, v) in vs.iter().enumerate() {
                        t.raw_set(i + 1, *v)?;
                    }
                    return Ok(true);
                }
                _ => return Ok(false),
            };
            current.set(name, value)?;
            Ok(true)
        };
        set().unwrap_or(false)
    }
}

/// A value a module exposed to the tweak bar with `tweak(name, default, opts)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Exposed {
    pub name: String,
    pub values: Vec<f64>,
    pub boolean: bool,
    pub range: Option<(f64, f64)>,
    pub step: Option<f64>,
    pub colour: bool,
}
