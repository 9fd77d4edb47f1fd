-- Particles with bloom. A compute pass moves N particles in a storage buffer; one instanced draw adds them into a
-- float target with two colour textures at once (MRT): the picture, and only its hottest parts. The hot parts are
-- blurred at half size (a separable blur, twice), then laid over the picture and tone-mapped.
--
-- Tweak the bloom's strength; edit simulate.glsl (the motion) or particles.glsl (their look) while they fly.
local M = {}

local N = 8192
local simulate = gfx.shader("simulate.glsl")
local particles = gfx.shader("particles.glsl")
local blur = gfx.shader("blur.glsl")
local composite = gfx.shader("composite.glsl")
local strength = tweak("bloom", 1.2, { min = 0, max = 4 })

-- Two vec4s a particle; they keep flying through edits of this file.
local world = persist("world", function() return { particles = gfx.buffer(N * 32) } end)

local hdr, half_a, half_b
local step = 1 / 60

local function make_targets()
  local w, h = gfx.width(), gfx.height()
  if hdr and hdr.width == w and hdr.height == h then return end
  hdr = gfx.target(w, h, { format = "rgba16f", colours = 2 })
  local hw, hh = math.max(1, math.floor(w / 2)), math.max(1, math.floor(h / 2))
  half_a, half_b = gfx.target(hw, hh, "rgba16f"), gfx.target(hw, hh, "rgba16f")
end

function M.update(dt)
  step = math.min(dt, 1 / 30)
end

function M.draw()
  make_targets()
  gfx.dispatch{
    shader = simulate, groups = { N / 64 }, storage = { [0] = world.particles },
    uniforms = { dt = step, time = gfx.time() },
  }
  gfx.barrier()
  gfx.clear(0, 0, 0, 1, hdr)
  gfx.draw{ shader = particles, target = hdr, count = 6, instances = N, storage = { [0] = world.particles },
            blend = "add" }
  -- Colour texture 1 holds the hot parts: blur them across, then down, twice, wider the second time.
  local source = { hdr, attachment = 1 }
  for _, spread in ipairs({ 1, 2.5 }) do
    gfx.draw{ shader = blur, target = half_a, textures = { source }, uniforms = { direction = { spread, 0 } } }
    gfx.draw{ shader = blur, target = half_b, textures = { half_a }, uniforms = { direction = { 0, spread } } }
    source = half_b
  end
  gfx.draw{ shader = composite, textures = { hdr, half_b }, uniforms = { scene = 0, bloom = 1, strength = strength } }
end

return M
