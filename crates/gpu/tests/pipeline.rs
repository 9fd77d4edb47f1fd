//! Every stage kind on a real driver: tessellation and geometry stages drawn to pixels, compute writing storage
//! buffers, an indirect draw and an indirect dispatch whose commands a compute shader wrote, a multi-draw, transform
//! feedback captured through `xfb_buffer`/`xfb_offset`, and reflection of all of it.

use allsource_gpu::{
    Buffer, BufferTarget, FullscreenTriangle, GlContext, Image, Primitive, Program, Stage, Target, UniformValue,
    barrier, capture_feedback, dispatch, dispatch_indirect, draw_arrays_indirect, headless,
    multi_draw_elements_indirect, patch_vertices,
};
use allsource_shader::FULLSCREEN_VERTEX;

fn program(context: &GlContext, stages: &[(Stage, &str)]) -> Program {
    match Program::build(&context.gl, stages) {
        Ok((program, _)) => program,
        Err(logs) => panic!("{}", allsource_gpu::StageLog::describe(&logs)),
    }
}

const RED_FRAGMENT: &str = "#version 450 core\nin vec3 colour;\nout vec4 o;\nvoid main() { o = vec4(colour, 1.0); }\n";

#[test]
fn tessellation_and_geometry_stages_render_their_pixels() {
    let context = headless().unwrap();
    let gl = &context.gl;
    let vertex = "#version 450 core
        void main() {
            // The lower-left half of the viewport.
            vec2 p[3] = vec2[](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0));
            gl_Position = vec4(p[gl_VertexID], 0.0, 1.0);
        }";
    let control = "#version 450 core
        layout(vertices = 3) out;
        void main() {
            gl_out[gl_InvocationID].gl_Position = gl_in[gl_InvocationID].gl_Position;
            gl_TessLevelOuter[0] = 4.0; gl_TessLevelOuter[1] = 4.0; gl_TessLevelOuter[2] = 4.0;
            gl_TessLevelInner[0] = 4.0;
        }";
    let evaluation = "#version 450 core
        layout(triangles, equal_spacing, ccw) in;
        out float tessellated;
        void main() {
            gl_Position = gl_TessCoord.x * gl_in[0].gl_Position + gl_TessCoord.y * gl_in[1].gl_Position
                        + gl_TessCoord.z * gl_in[2].gl_Position;
            tessellated = 1.0;
        }";
    let geometry = "#version 450 core
        layout(triangles) in;
        layout(triangle_strip, max_vertices = 3) out;
        in float tessellated[];
        out vec3 colour;
        void main() {
            for (int i = 0; i < 3; i++) {
                gl_Position = gl_in[i].gl_Position;
                colour = vec3(tessellated[i], 0.5, 0.25);  // red only if the evaluation stage ran
                EmitVertex();
            }
            EndPrimitive();
        }";
    let p = program(
        &context,
        &[
            (Stage::Vertex, vertex),
            (Stage::TessControl, control),
            (Stage::TessEvaluation, evaluation),
            (Stage::Geometry, geometry),
            (Stage::Fragment, RED_FRAGMENT),
        ],
    );
    let target = Target::new(gl, 32, 32).unwrap();
    let frame = target.frame_target();
    frame.clear(gl, [0.0, 0.0, 0.0, 1.0], None);
    frame.bind(gl);
    p.use_program(gl);
    patch_vertices(gl, 3);
    FullscreenTriangle::new(gl).unwrap().draw_arrays(gl, Primitive::Patches, 3, 1);
    let image = Image::read(gl, &frame);
    assert_eq!(image.pixel(4, 27), [255, 128, 64, 255], "inside the triangle (bottom-left)");
    assert_eq!(image.pixel(28, 4), [0, 0, 0, 255], "outside it (top-right)");
}

const WRITE_SQUARES: &str = "#version 450 core
layout(local_size_x = 8) in;
layout(std430, binding = 3) buffer Squares { uint squares[]; };
void main() { uint i = gl_GlobalInvocationID.x; squares[i] = i * i; }
";

#[test]
fn compute_writes_a_storage_buffer_that_reads_back() {
    let context = headless().unwrap();
    let gl = &context.gl;
    let p = program(&context, &[(Stage::Compute, WRITE_SQUARES)]);
    let buffer = Buffer::zeroed(gl, 16 * 4).unwrap();
    buffer.bind_base(gl, BufferTarget::ShaderStorage, 3);
    p.use_program(gl);
    dispatch(gl, 2, 1, 1);
    barrier(gl);
    assert_eq!(buffer.read_u32(gl), (0..16u32).map(|i| i * i).collect::<Vec<_>>());
    let reflection = p.reflect(gl);
    assert_eq!(reflection.storage_blocks.len(), 1);
    assert_eq!((reflection.storage_blocks[0].name.as_str(), reflection.storage_blocks[0].binding), ("Squares", 3));
}

#[test]
fn an_indirect_draw_and_an_indirect_dispatch_run_commands_a_compute_shader_wrote() {
    let context = headless().unwrap();
    let gl = &context.gl;
    // One compute pass writes both commands: a DrawArraysIndirectCommand {3, 1, 0, 0} and a
    // DispatchIndirectCommand {2, 1, 1}. The buffers start zeroed: without it, nothing would be drawn or run.
    let writer = program(
        &context,
        &[(
            Stage::Compute,
            "#version 450 core
            layout(local_size_x = 1) in;
            layout(std430, binding = 0) buffer Draw { uint draw[4]; };
            layout(std430, binding = 1) buffer Dispatch { uint groups[3]; };
            void main() { draw = uint[](3u, 1u, 0u, 0u); groups = uint[](2u, 1u, 1u); }",
        )],
    );
    let draw_command = Buffer::zeroed(gl, 16).unwrap();
    let dispatch_command = Buffer::zeroed(gl, 12).unwrap();
    draw_command.bind_base(gl, BufferTarget::ShaderStorage, 0);
    dispatch_command.bind_base(gl, BufferTarget::ShaderStorage, 1);
    writer.use_program(gl);
    dispatch(gl, 1, 1, 1);
    barrier(gl);

    let target = Target::new(gl, 8, 8).unwrap();
    let frame = target.frame_target();
    frame.clear(gl, [0.0, 0.0, 0.0, 1.0], None);
    frame.bind(gl);
    let draw = program(
        &context,
        &[
            (Stage::Vertex, FULLSCREEN_VERTEX),
            (Stage::Fragment, "#version 450 core\nout vec4 o;\nvoid main() { o = vec4(0.0, 1.0, 0.0, 1.0); }\n"),
        ],
    );
    draw.use_program(gl);
    let triangle = FullscreenTriangle::new(gl).unwrap();
    triangle.bind(gl);
    draw_arrays_indirect(gl, Primitive::Triangles, &draw_command, 0);
    assert_eq!(Image::read(gl, &frame).pixel(3, 3), [0, 255, 0, 255]);

    let squares = Buffer::zeroed(gl, 16 * 4).unwrap();
    squares.bind_base(gl, BufferTarget::ShaderStorage, 3);
    program(&context, &[(Stage::Compute, WRITE_SQUARES)]).use_program(gl);
    dispatch_indirect(gl, &dispatch_command, 0);
    barrier(gl);
    assert_eq!(squares.read_u32(gl), (0..16u32).map(|i| i * i).collect::<Vec<_>>(), "2 groups of 8 ran");
}

#[test]
fn a_multi_draw_runs_each_command_with_its_base_vertex() {
    let context = headless().unwrap();
    let gl = &context.gl;
    let vertex = "#version 450 core
        void main() {
            // Vertices 0-2: the left half; 3-5: the right half (gl_VertexID includes the base vertex).
            vec2 p[6] = vec2[](vec2(-1,-1), vec2(0,-1), vec2(-1,1), vec2(0,-1), vec2(1,-1), vec2(1,1));
            gl_Position = vec4(p[gl_VertexID], 0.0, 1.0);
        }";
    let fragment = "#version 450 core\nout vec4 o;\nvoid main() { o = vec4(1.0, 1.0, 0.0, 1.0); }\n";
    let p = program(&context, &[(Stage::Vertex, vertex), (Stage::Fragment, fragment)]);
    let indices = Buffer::new(gl, &[0u32, 1, 2].map(u32::to_ne_bytes).concat()).unwrap();
    // Two DrawElementsIndirectCommand {count, instances, first index, base vertex, base instance}.
    let commands = Buffer::new(gl, &[3u32, 1, 0, 0, 0, 3, 1, 0, 3, 0].map(u32::to_ne_bytes).concat()).unwrap();
    let target = Target::new(gl, 16, 16).unwrap();
    let frame = target.frame_target();
    frame.clear(gl, [0.0, 0.0, 0.0, 1.0], None);
    frame.bind(gl);
    p.use_program(gl);
    let vao = FullscreenTriangle::new(gl).unwrap();
    vao.bind(gl);
    indices.bind(gl, BufferTarget::ElementArray);
    multi_draw_elements_indirect(gl, Primitive::Triangles, &commands, 0, 2, 0).unwrap();
    let image = Image::read(gl, &frame);
    assert_eq!(image.pixel(1, 14), [255, 255, 0, 255], "first command: bottom-left");
    assert_eq!(image.pixel(14, 14), [255, 255, 0, 255], "second command: bottom-right");
    assert_eq!(image.pixel(7, 1), [0, 0, 0, 255], "neither covers the top middle");
}

#[test]
fn transform_feedback_declared_with_xfb_qualifiers_captures_and_reflects() {
    let context = headless().unwrap();
    let gl = &context.gl;
    let vertex = "#version 450 core
        layout(xfb_buffer = 0, xfb_offset = 0) out float doubled;
        layout(xfb_buffer = 0, xfb_offset = 4) out float id;
        void main() { doubled = float(gl_VertexID) * 2.0; id = float(gl_VertexID); gl_Position = vec4(0.0); }";
    let p = program(&context, &[(Stage::Vertex, vertex)]);
    let captured = Buffer::zeroed(gl, 4 * 8).unwrap();
    captured.bind_base(gl, BufferTarget::TransformFeedback, 0);
    // Draws need a complete framebuffer even when nothing is rasterised, and a surfaceless context has none.
    let target = Target::new(gl, 1, 1).unwrap();
    target.frame_target().bind(gl);
    p.use_program(gl);
    let vao = FullscreenTriangle::new(gl).unwrap();
    capture_feedback(gl, Primitive::Points, true, || vao.draw_arrays(gl, Primitive::Points, 4, 1));
    assert_eq!(captured.read_f32(gl), vec![0.0, 0.0, 2.0, 1.0, 4.0, 2.0, 6.0, 3.0]);
    let feedback = p.reflect(gl).feedback;
    let got: Vec<_> = feedback.iter().map(|v| (v.name.as_str(), v.buffer, v.offset, v.stride)).collect();
    assert_eq!(got, vec![("doubled", 0, 0, 8), ("id", 0, 4, 8)]);
}

#[test]
fn reflection_lists_uniforms_of_every_kind_and_values_are_set_by_type() {
    let context = headless().unwrap();
    let gl = &context.gl;
    let fragment = "#version 450 core
        uniform float gain;
        uniform vec3 tint;
        uniform mat4 view;
        uniform int steps[3];
        uniform bool enabled;
        uniform uvec2 cells;
        uniform sampler2D image;
        layout(std140, binding = 2) uniform Light { vec4 position; vec4 light_colour; };
        out vec4 o;
        void main() {
            o = vec4(tint * gain, 1.0) * view[0][0] + float(steps[2] + int(enabled) + int(cells.y))
              + texture(image, vec2(0.5)) + position + light_colour;
        }";
    let p = program(&context, &[(Stage::Vertex, FULLSCREEN_VERTEX), (Stage::Fragment, fragment)]);
    let reflection = p.reflect(gl);
    let mut got: Vec<_> =
        reflection.uniforms.iter().map(|u| (u.name.clone(), u.ty.name(), u.array_len, u.block.clone())).collect();
    got.sort();
    let block = Some("Light".to_owned());
    assert_eq!(
        got,
        vec![
            ("cells".into(), "uvec2".into(), 1, None),
            ("enabled".into(), "bool".into(), 1, None),
            ("gain".into(), "float".into(), 1, None),
            ("image".into(), "sampler2D".into(), 1, None),
            ("light_colour".into(), "vec4".into(), 1, block.clone()),
            ("position".into(), "vec4".into(), 1, block),
            ("steps".into(), "int".into(), 3, None),
            ("tint".into(), "vec3".into(), 1, None),
            ("view".into(), "mat4".into(), 1, None),
        ]
    );
    assert_eq!(reflection.uniform_blocks.len(), 1);
    assert_eq!((reflection.uniform_blocks[0].binding, reflection.uniform_blocks[0].size), (2, 32));

    p.use_program(gl);
    let tint = reflection.uniform("tint").unwrap();
    assert!(p.set_uniform(gl, tint, &UniformValue::Float(vec![0.25, 0.5, 1.0])));
    assert_eq!(p.uniform_value(gl, tint), Some(UniformValue::Float(vec![0.25, 0.5, 1.0])));
    let steps = reflection.uniform("steps").unwrap();
    assert!(p.set_uniform(gl, steps, &UniformValue::Int(vec![4, 5, 6])));
    assert_eq!(p.uniform_value(gl, steps), Some(UniformValue::Int(vec![4, 5, 6])));
    let view = reflection.uniform("view").unwrap();
    let identity: Vec<f32> = (0..16).map(|i| if i % 5 == 0 { 1.0 } else { 0.0 }).collect();
    assert!(p.set_uniform(gl, view, &UniformValue::Float(identity.clone())));
    assert_eq!(p.uniform_value(gl, view), Some(UniformValue::Float(identity)));
    assert!(!p.set_uniform(gl, tint, &UniformValue::Int(vec![1, 2, 3])), "an int value does not fit a vec3");
    assert!(!p.set_uniform(gl, tint, &UniformValue::Float(vec![1.0, 2.0])), "two floats do not make a vec3");
}
