// The bundled demo: an animated plasma. Edit this file (or lib/palette.glsl) while `cargo run --release` runs: it
// rebuilds on save, and a broken edit keeps the last good version on screen while a red strip at the top says
// the newest version failed (`allsource check demo` prints where).
//
// The engine sets: u_time (seconds), u_resolution (pixels), u_frame, u_fps, u_previous (the last frame).
#include "lib/palette.glsl"

uniform float u_time;
uniform vec2 u_resolution;

layout(location = 0) out vec4 colour;

void main() {
    vec2 p = gl_FragCoord.xy / u_resolution.y * 4.0;
    float v = sin(p.x + u_time)
            + sin(p.y * 1.3 - u_time * 0.7)
            + sin((p.x + p.y) * 0.8 + u_time * 1.1)
            + sin(length(p - vec2(3.5, 2.0)) * 2.0 - u_time * 1.6);
    colour = vec4(palette(v * 1.2), 1.0);
}
