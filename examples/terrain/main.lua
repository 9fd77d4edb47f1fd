-- A flight over endless terrain: a grid of GRID x GRID quads pulled from gl_VertexID, raised by noise in the
-- vertex stage and lit in the fragment stage, drawn with depth into a target whose depth buffer is a texture; a
-- post pass samples that depth to fade the distance into the sky.
--
-- Tweak the speed in the tweak bar; edit ground.glsl (the shape and colours of the land) or post.glsl (the fog)
-- while it flies.
local M = {}

local GRID = 160
local ground = gfx.shader("ground.glsl")
local post = gfx.shader("post.glsl")
local speed = tweak("speed", 3.0, { min = 0, max = 12 })

local scene

function M.draw()
  local w, h = gfx.width(), gfx.height()
  if not scene or scene.width ~= w or scene.height ~= h then
    scene = gfx.target(w, h, { format = "rgba16f", depth = true })
  end
  gfx.clear(0, 0, 0, 0, scene)
  gfx.draw{
    shader = ground, target = scene, count = GRID * GRID * 6, depth = true,
    uniforms = { travel = 10 + gfx.time() * speed, grid = GRID },
  }
  gfx.draw{
    shader = post, uniforms = { scene = 0, depth = 1 },
    textures = { scene, { scene, attachment = "depth" } },
  }
end

return M
