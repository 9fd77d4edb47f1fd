// A shader scene: this fragment shader is drawn over the whole frame every frame. Edit it while it runs; a broken
// edit keeps the last good version on screen, with the error on its line.
//
// The engine sets: u_time (seconds), u_resolution (pixels), u_frame, u_fps, u_previous (the last frame).
uniform float u_time;
uniform vec2 u_resolution;
layout(location = 0) out vec4 colour;

void main() {
    vec2 uv = gl_FragCoord.xy / u_resolution;
    vec3 c = 0.5 + 0.5 * cos(u_time + uv.xyx * 3.0 + vec3(0.0, 2.0, 4.0));
    colour = vec4(c, 1.0);
}
