// The picture with the blurred hot parts laid over it, tone-mapped and encoded for the screen.
uniform sampler2D scene;
uniform sampler2D bloom;
uniform float strength;
uniform vec2 u_resolution;
out vec4 colour;

void main() {
    vec2 uv = gl_FragCoord.xy / u_resolution;
    vec3 c = texture(scene, uv).rgb + texture(bloom, uv).rgb * strength * 4.0;
    c = vec3(1.0) - exp(-c * 1.5);
    colour = vec4(pow(c, vec3(1.0 / 2.2)), 1.0);
}
