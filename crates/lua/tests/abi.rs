//! LuaJIT reads a C function's `int` result as 64 bits unless patched (docs/facts/luajit-abi.md): a C function that
//! returns 1 with a dirty upper half of RAX, called from Lua and run as `__gc`, must work at every profile. Without
//! vendor/luajit-int-result.patch this binary dies with SIGSEGV. Its own test binary: a crash takes nothing else
//! down.

#[cfg(target_arch = "x86_64")]
mod dirty {
    use mlua::ffi;

    /// Returns 1 (one result: the value it pushed... here none is pushed, so Lua sees the last stack value) with
    /// the upper half of RAX set, as rustc may leave it for an `int`.
    #[unsafe(naked)]
    pub unsafe extern "C-unwind" fn returns_one_dirty(_state: *mut ffi::lua_State) -> std::os::raw::c_int {
        core::arch::naked_asm!("movabs rax, 0x7ffc000800000001", "ret")
    }

    /// Returns 0 results with a dirty upper half.
    #[unsafe(naked)]
    pub unsafe extern "C-unwind" fn returns_zero_dirty(_state: *mut ffi::lua_State) -> std::os::raw::c_int {
        core::arch::naked_asm!("movabs rax, 0x7ffc000800000000", "ret")
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_c_function_whose_int_result_has_a_dirty_upper_half_works_called_and_as_gc() {
    let lua = mlua::Lua::new();
    // SAFETY: the functions follow the lua_CFunction contract but for the upper half of their int result.
    let one = unsafe { lua.create_c_function(dirty::returns_one_dirty) }.unwrap();
    let zero = unsafe { lua.create_c_function(dirty::returns_zero_dirty) }.unwrap();
    lua.globals().set("one", one).unwrap();
    lua.globals().set("zero", zero).unwrap();
    let sum: i64 = lua
        .load(
            "local n = 0
             for i = 1, 1000 do
               local v = one(i)      -- returns its argument (the top of its stack)
               zero()
               n = n + v
             end
             return n",
        )
        .eval()
        .unwrap();
    assert_eq!(sum, 500500);
    lua.load(
        "for i = 1, 200 do
           local p = newproxy(true)
           getmetatable(p).__gc = (i % 2 == 0) and one or zero
         end
         collectgarbage() collectgarbage()",
    )
    .exec()
    .unwrap();
    drop(lua);
}
