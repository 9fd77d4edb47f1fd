// Buffer B: one more step, from Buffer A of this frame.
#pragma channel 0 buffer_a

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    fragColor = react(iChannel0, fragCoord, iMouse);
}
