// The photo fitted to the frame; right of `split` (pixels from the left) drawn in ink.
uniform sampler2D photo;
uniform vec2 image_size;
uniform float split;
uniform float levels;
uniform float ink;
uniform vec2 u_resolution;
out vec4 colour;

float luminance(vec2 uv) {
    return dot(texture(photo, uv).rgb, vec3(0.2126, 0.7152, 0.0722));
}

void main() {
    // Fit the image inside the frame, keeping its shape.
    float scale = min(u_resolution.x / image_size.x, u_resolution.y / image_size.y);
    vec2 size = image_size * scale;
    vec2 uv = (gl_FragCoord.xy - 0.5 * (u_resolution - size)) / size;
    if (any(lessThan(uv, vec2(0.0))) || any(greaterThan(uv, vec2(1.0)))) {
        colour = vec4(0.1, 0.1, 0.1, 1.0);
        return;
    }
    // The texture is sRGB: sampling gives linear values; the frame shows encoded ones.
    vec3 c = pow(texture(photo, uv).rgb, vec3(1.0 / 2.2));
    if (gl_FragCoord.x > split) {
        vec2 px = 1.0 / image_size;
        float gx = luminance(uv + vec2(px.x, 0)) - luminance(uv - vec2(px.x, 0));
        float gy = luminance(uv + vec2(0, px.y)) - luminance(uv - vec2(0, px.y));
        float edge = smoothstep(0.03, 0.1, length(vec2(gx, gy)) * ink);
        c = floor(c * levels + 0.5) / levels;
        c = mix(c, vec3(0.05, 0.04, 0.08), edge);
    }
    if (abs(gl_FragCoord.x - split) < 1.0) {
        c = vec3(1.0);
    }
    colour = vec4(c, 1.0);
}
