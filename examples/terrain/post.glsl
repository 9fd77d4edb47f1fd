// The land faded into the sky with distance, read from the depth texture.
uniform sampler2D scene;
uniform sampler2D depth;
uniform vec2 u_resolution;
out vec4 colour;

const float NEAR = 0.1;
const float FAR = 80.0;

void main() {
    vec2 uv = gl_FragCoord.xy / u_resolution;
    float d = texture(depth, uv).r;
    float distance_ = 2.0 * NEAR * FAR / (FAR + NEAR - (2.0 * d - 1.0) * (FAR - NEAR));
    vec3 sky = mix(vec3(0.9, 0.82, 0.72), vec3(0.3, 0.5, 0.85), smoothstep(0.3, 1.0, uv.y));
    float fog = d >= 1.0 ? 1.0 : 1.0 - exp(-pow(distance_ / 55.0, 2.0));
    colour = vec4(mix(texture(scene, uv).rgb, sky, fog), 1.0);
}
