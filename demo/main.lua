-- The allsource demo: every part of it is live. Edit any file here while `cargo run --release` shows it; a broken
-- edit keeps the last good version running (a red strip at the top says so, `allsource check demo` says where).
--
--   shaders/terrain.glsl    vertex + tessellation control + tessellation evaluation + fragment
--   shaders/beacons.glsl    a vertex stage captured by transform feedback
--   shaders/particles.glsl  compute: particles, and the indirect command that draws them
--   shaders/sprites.glsl    vertex + geometry + fragment, drawn indirectly
--   shaders/post.glsl       the post-process pass over the scene's render target
local mat4 = require("lib.mat4")

local M = {}

local PARTICLES = 2048
local GRID = 12

local terrain = gfx.shader("shaders/terrain.glsl")
local beacons = gfx.shader("shaders/beacons.glsl")
local simulate = gfx.shader("shaders/particles.glsl")
local sprites = gfx.shader("shaders/sprites.glsl")
local post = gfx.shader("shaders/post.glsl")

-- Buffers survive reloads of this file: the particles keep flying while you edit.
local world = persist("world", function()
  return {
    particles = gfx.buffer(PARTICLES * 32),
    beacons = gfx.buffer(8 * 16),
    command = gfx.buffer(16),
  }
end)

local scene
local dt = 1 / 60

function M.update(seconds)
  dt = math.min(seconds, 0.1)
end

function M.draw()
  local w, h = gfx.width(), gfx.height()
  if not scene or scene.width ~= w or scene.height ~= h then
    scene = gfx.target(w, h)
  end
  local t = gfx.time()
  local eye = { math.cos(t * 0.1) * 11, 6, math.sin(t * 0.1) * 11 }
  local view = mat4.look_at(eye, { 0, 0, 0 }, { 0, 1, 0 })
  local view_projection = mat4.mul(mat4.perspective(math.rad(55), w / h, 0.1, 60), view)
  local right, up = mat4.camera_axes(view)

  gfx.draw{ shader = beacons, mode = "points", count = 8, feedback = { [0] = world.beacons }, discard = true }
  gfx.barrier()
  gfx.dispatch{
    shader = simulate, groups = { PARTICLES / 64 },
    storage = { [0] = world.particles, [1] = world.beacons, [2] = world.command },
    uniforms = { dt = dt, frame = gfx.frame() },
  }
  gfx.barrier()

  gfx.clear(0.55, 0.7, 0.9, 1, scene)
  gfx.draw{
    shader = terrain, target = scene, mode = "patches", patch = 4, count = GRID * GRID * 4, depth = true,
    uniforms = { view_projection = view_projection, eye = eye, grid = GRID },
  }
  gfx.draw{
    shader = sprites, target = scene, mode = "points", indirect = world.command, depth = true, blend = "add",
    storage = { [0] = world.particles },
    uniforms = { view_projection = view_projection, eye_right = right, eye_up = up },
  }
  gfx.draw{ shader = post, textures = { scene } }
end

return M
