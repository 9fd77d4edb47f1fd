//! Storage buffers, atomic counters, compute dispatches and memory barriers.

use std::collections::HashMap;

use allsource_gpu::{Buffer, BufferTarget, UniformShape, UniformValue};

use super::commands::Line;
use super::words::{check_scalar, parse_u32, scalar_bytes};
use super::{Outcome, Run, Step};

impl Run<'_> {
    /// A zeroed buffer for each uniform block of the program, the block bound at its own index: shader_runner's
    /// set-up, which `uniform` commands naming block members then fill.
    pub(super) fn make_uniform_buffers(&mut self) -> Result<(), Outcome> {
        let gl = self.gl;
        let Some(program) = &self.program else { return Ok(()) };
        for (index, size) in program.uniform_block_sizes(gl).into_iter().enumerate() {
            let buffer = Buffer::zeroed(gl, size.max(16) as usize).map_err(|e| Outcome::Fail(e.to_string()))?;
            program.bind_uniform_block(gl, index as u32, index as u32);
            buffer.bind_base(gl, BufferTarget::Uniform, index as u32);
            self.ubos.push(buffer);
        }
        Ok(())
    }

    /// Writes `value` into the uniform buffer of the block `name` belongs to (of the element `ubo array index`
    /// chose), as shader_runner does. False when `name` is not a block member.
    pub(super) fn set_block_uniform(
        &self,
        name: &str,
        shape: UniformShape,
        value: &UniformValue,
    ) -> Result<bool, Step> {
        let gl = self.gl;
        let Some(program) = &self.program else { return Ok(false) };
        // An element of an array member: GL finds the array by its bare name; the element is found by its stride.
        let (base, element) = match name.strip_suffix(']').and_then(|n| n.rsplit_once('[')) {
            Some((base, index)) => (base, index.parse::<u32>().map_err(|_| Step::Unsupported)?),
            None => (name, 0),
        };
        let Some(member) = program.block_member(gl, base) else { return Ok(false) };
        let outside =
            || Step::Fail(format!("`{name}` (ubo array index {}) is outside its block", self.ubo_array_index));
        let block = member.block.checked_add(self.ubo_array_index).ok_or_else(outside)? as usize;
        let buffer =
            self.ubos.get(block).ok_or_else(|| Step::Fail(format!("no uniform block {block} for `{name}`")))?;
        let at =
            element.checked_mul(member.array_stride).and_then(|a| a.checked_add(member.offset)).ok_or_else(outside)?;
        let words: Vec<[u8; 4]> = match value {
            UniformValue::Float(v) => v.iter().map(|x| x.to_ne_bytes()).collect(),
            UniformValue::Int(v) => v.iter().map(|x| x.to_ne_bytes()).collect(),
            UniformValue::UInt(v) => v.iter().map(|x| x.to_ne_bytes()).collect(),
        };
        match shape {
            UniformShape::Vector(_) => buffer.write(gl, at as usize, &words.concat()),
            // Column-major values; each column (or, row-major, each row) starts a matrix stride after the last.
            UniformShape::Matrix(columns, rows) => {
                let (lines, per_line) = if member.row_major { (rows, columns) } else { (columns, rows) };
                for l in 0..lines {
                    let bytes: Vec<u8> = (0..per_line)
                        .flat_map(|k| {
                            let (c, r) = if member.row_major { (k, l) } else { (l, k) };
                            words[c * rows + r]
                        })
                        .collect();
                    buffer.write(gl, (at + l as u32 * member.matrix_stride) as usize, &bytes);
                }
            }
        }
        Ok(true)
    }

    /// `ssbo ...`, `atomic counter ...`, their probes, `compute`, `memory barrier`.
    pub(super) fn buffer_command(&mut self, command: &Line) -> Result<(), Step> {
        let gl = self.gl;
        let (line, words) = (command.text, command.words.as_slice());
        match words {
            ["ubo", "array", "index", index] => self.ubo_array_index = parse_u32(index, line)?,
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
