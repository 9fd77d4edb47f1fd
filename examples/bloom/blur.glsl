// Nine taps of a Gaussian along `direction` (in texels of the source).
uniform sampler2D source;
uniform vec2 direction;
uniform vec2 u_resolution;
out vec4 colour;

void main() {
    vec2 uv = gl_FragCoord.xy / u_resolution;
    vec2 texel = direction / vec2(textureSize(source, 0));
    const float weights[5] = float[5](0.227, 0.195, 0.122, 0.054, 0.016);
    vec3 sum = texture(source, uv).rgb * weights[0];
    for (int i = 1; i < 5; i++) {
        sum += texture(source, uv + texel * float(i)).rgb * weights[i];
        sum += texture(source, uv - texel * float(i)).rgb * weights[i];
    }
    colour = vec4(sum, 1.0);
}
