// The world, N cells high and repeated across the frame: young cells cyan, old ones orange, trails dim blue.
uniform sampler2D world;
uniform vec2 u_resolution;
out vec4 colour;

void main() {
    vec4 cell = texture(world, gl_FragCoord.xy / u_resolution.y);
    vec3 young = vec3(0.3, 0.9, 1.0);
    vec3 old = vec3(1.0, 0.45, 0.15);
    vec3 c = cell.r > 0.5 ? mix(young, old, clamp(cell.g / 60.0, 0.0, 1.0)) : vec3(0.06, 0.12, 0.3) * cell.b;
    colour = vec4(c, 1.0);
}
