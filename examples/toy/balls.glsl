// One quad per ball (instanced), a disc with a soft edge and a highlight. Balls are (x, y, radius, hue) in pixels
// from the frame's top-left, as input.mouse counts.
#pragma stage vertex
layout(std430, binding = 0) readonly buffer Balls { vec4 balls[]; };
uniform vec2 u_resolution;
out vec2 local;
out float hue;
flat out float radius;

void main() {
    const vec2 corners[6] = vec2[6](vec2(-1, -1), vec2(1, -1), vec2(-1, 1), vec2(-1, 1), vec2(1, -1), vec2(1, 1));
    vec4 b = balls[gl_InstanceID];
    local = corners[gl_VertexID];
    hue = b.w;
    radius = b.z;
    vec2 px = b.xy + local * (b.z + 1.0);
    gl_Position = vec4(px.x / u_resolution.x * 2.0 - 1.0, 1.0 - px.y / u_resolution.y * 2.0, 0.0, 1.0);
}

#pragma stage fragment
in vec2 local;
in float hue;
flat in float radius;
out vec4 colour;

vec3 hsv(float h, float s, float v) {
    vec3 k = clamp(abs(fract(h + vec3(0.0, 2.0, 1.0) / 3.0) * 6.0 - 3.0) - 1.0, 0.0, 1.0);
    return v * mix(vec3(1.0), k, s);
}

void main() {
    float d = length(local) * (radius + 1.0);
    float alpha = clamp(radius - d + 0.5, 0.0, 1.0);
    float shade = 1.0 - 0.4 * length(local - vec2(-0.4, 0.4));
    colour = vec4(hsv(hue, 0.6, 1.0) * shade, alpha);
}
