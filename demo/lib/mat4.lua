-- 4x4 matrices for the camera, column-major as OpenGL reads them (m[col * 4 + row + 1]).
local mat4 = {}

local function normalize(v)
  local l = math.sqrt(v[1] * v[1] + v[2] * v[2] + v[3] * v[3])
  return { v[1] / l, v[2] / l, v[3] / l }
end

local function cross(a, b)
  return { a[2] * b[3] - a[3] * b[2], a[3] * b[1] - a[1] * b[3], a[1] * b[2] - a[2] * b[1] }
end

local function dot(a, b) return a[1] * b[1] + a[2] * b[2] + a[3] * b[3] end

function mat4.perspective(fovy, aspect, near, far)
  local f = 1 / math.tan(fovy / 2)
  return { f / aspect, 0, 0, 0,  0, f, 0, 0,  0, 0, (far + near) / (near - far), -1,  0, 0, 2 * far * near / (near - far), 0 }
end

function mat4.look_at(eye, center, up)
  local f = normalize({ center[1] - eye[1], center[2] - eye[2], center[3] - eye[3] })
  local s = normalize(cross(f, up))
  local u = cross(s, f)
  return { s[1], u[1], -f[1], 0,  s[2], u[2], -f[2], 0,  s[3], u[3], -f[3], 0,  -dot(s, eye), -dot(u, eye), dot(f, eye), 1 }
end

function mat4.mul(a, b)
  local c = {}
  for col = 0, 3 do
    for row = 0, 3 do
      local sum = 0
      for k = 0, 3 do sum = sum + a[k * 4 + row + 1] * b[col * 4 + k + 1] end
      c[col * 4 + row + 1] = sum
    end
  end
  return c
end

-- The camera's right and up axes in world space, from a view matrix: to face sprites towards the camera.
function mat4.camera_axes(view)
  return { view[1], view[5], view[9] }, { view[2], view[6], view[10] }
end

return mat4
