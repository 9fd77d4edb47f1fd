// Drawn full screen by main.lua (`gfx.draw`); `t` and `clicks` come from its `uniforms`.
uniform float t;
uniform float clicks;
uniform vec2 u_resolution;
out vec4 colour;

void main() {
    vec2 p = (gl_FragCoord.xy - 0.5 * u_resolution) / u_resolution.y;
    float r = length(p);
    float rings = 0.5 + 0.5 * cos(24.0 * r - 3.0 * t + clicks);
    colour = vec4(mix(vec3(0.1, 0.3, 0.6), vec3(1.0, 0.7, 0.3), rings) * smoothstep(0.6, 0.2, r), 1.0);
}
