//! Storage buffers, atomic counters, compute dispatches and memory barriers.

use std::collections::HashMap;

use allsource_gpu::{Buffer, BufferTarget};

use super::commands::Line;
use super::words::{check_scalar, parse_u32, scalar_bytes};
use super::{Run, Step};

impl Run<'_> {
    /// `ssbo ...`, `atomic counter ...`, their probes, `compute`, `memory barrier`.
    pub(super) fn buffer_command(&mut self, command: &Line) -> Result<(), Step> {
        let gl = self.gl;
        let (line, words) = (command.text, command.words.as_slice());
        match words {
            ["ssbo", index, size] => {
                let (index, size) = (parse_u32(index, line)?, parse_u32(size, line)?);
                let buffer = Buffer::zeroed(gl, size as usize).map_err(|e| Step::Fail(e.to_string()))?;
                buffer.bind_base(gl, BufferTarget::ShaderStorage, index);
                if let Some(old) = self.ssbos.insert(index, buffer) {
                    old.delete(gl);
                }
            }
            ["ssbo", index, "subdata", ty @ ("float" | "int" | "uint"), offset, value] => {
                let (index, offset) = (parse_u32(index, line)?, parse_u32(offset, line)?);
                let bytes = scalar_bytes(ty, value).ok_or_else(|| Step::Fail(format!("bad value in `{line}`")))?;
                Self::buffer(&self.ssbos, index, "ssbo")?.write(gl, offset as usize, &bytes);
            }
            ["probe", "ssbo", ty @ ("uint" | "int" | "float"), index, offset, op, value] => {
                let (index, offset) = (parse_u32(index, line)?, parse_u32(offset, line)? as usize);
                let bytes = Self::buffer(&self.ssbos, index, "ssbo")?.read(gl);
                let raw: [u8; 4] = bytes
                    .get(offset..offset + 4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| Step::Fail(format!("offset {offset} past ssbo {index}")))?;
                check_scalar(ty, raw, op, value, &format!("ssbo {index} at {offset}"))?;
            }
            ["atomic", "counters", n] => {
                let n = parse_u32(n, line)?;
                self.make_atomics(0, n)?;
            }
            ["atomic", "counter", "buffer", index, n] => {
                let (index, n) = (parse_u32(index, line)?, parse_u32(n, line)?);
                self.make_atomics(index, n)?;
            }
            ["atomic", "counter", buffer, index, value] => {
                let (b, i, v) = (parse_u32(buffer, line)?, parse_u32(index, line)?, parse_u32(value, line)?);
                Self::buffer(&self.atomics, b, "atomic counter buffer")?.write(gl, i as usize * 4, &v.to_ne_bytes());
            }
            ["probe", "atomic", "counter", "buffer", buffer, index, op, value] => {
                let (b, i) = (parse_u32(buffer, line)?, parse_u32(index, line)?);
                self.probe_atomic(b, i, op, value)?;
            }
            ["probe", "atomic", "counter", index, op, value] => {
                let i = parse_u32(index, line)?;
                self.probe_atomic(0, i, op, value)?;
            }
            ["compute", x, y, z] => {
                self.program()?;
                let (x, y, z) = (parse_u32(x, line)?, parse_u32(y, line)?, parse_u32(z, line)?);
                allsource_gpu::barrier(gl);
                allsource_gpu::dispatch(gl, x, y, z);
                allsource_gpu::barrier(gl);
                self.drew();
            }
            ["memory", "barrier", ..] => allsource_gpu::barrier(gl),
            _ => return Err(Step::Unsupported),
        }
        Ok(())
    }

    fn buffer<'b>(buffers: &'b HashMap<u32, Buffer>, index: u32, what: &str) -> Result<&'b Buffer, Step> {
        buffers.get(&index).ok_or_else(|| Step::Fail(format!("no {what} {index} was made")))
    }

    fn make_atomics(&mut self, index: u32, n: u32) -> Result<(), Step> {
        let gl = self.gl;
        let buffer = Buffer::zeroed(gl, n as usize * 4).map_err(|e| Step::Fail(e.to_string()))?;
        buffer.bind_base(gl, BufferTarget::AtomicCounter, index);
        if let Some(old) = self.atomics.insert(index, buffer) {
            old.delete(gl);
        }
        Ok(())
    }

    fn probe_atomic(&mut self, buffer: u32, index: u32, op: &str, value: &str) -> Result<(), Step> {
        let bytes = Self::buffer(&self.atomics, buffer, "atomic counter buffer")?.read(self.gl);
        let at = index as usize * 4;
        let raw: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Step::Fail(format!("counter {index} past buffer {buffer}")))?;
        check_scalar("uint", raw, op, value, &format!("atomic counter {index} of buffer {buffer}"))
    }
}
