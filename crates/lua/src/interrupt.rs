//! Interrupting a running Lua call from another thread: LuaJIT documents `lua_sethook` as safe to call from another
//! thread or a signal handler, and with `LUAJIT_ENABLE_CHECKHOOK` compiled traces check for it too. The hook raises
//! an error on every instruction until it is removed, so guest `pcall` cannot swallow it
//! (docs/facts/luajit-watchdog.md).

use mlua::ffi;

/// The message a VM interrupted this way raises.
pub const INTERRUPTED: &str = "interrupted: the call ran past its deadline";

/// A handle on one VM's main state, to arm and disarm the interrupting hook from any thread.
#[derive(Clone, Copy, Debug)]
pub struct Interrupter {
    state: usize,
}

unsafe extern "C-unwind" fn raise(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    // SAFETY: called by LuaJIT as a hook on `state` with its debug record, where asking for the running line and
    // raising an error are allowed. short_src is a NUL-terminated array inside the record.
    unsafe {
        let mut message = INTERRUPTED.to_owned();
        if !ar.is_null() && ffi::lua_getinfo(state, c"Sl".as_ptr(), ar) != 0 && (*ar).currentline > 0 {
            let src = std::ffi::CStr::from_ptr((*ar).short_src.as_ptr()).to_string_lossy();
            message = format!("{src}:{}: {INTERRUPTED}", (*ar).currentline);
        }
        ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len());
        ffi::lua_error(state);
    }
}

impl Interrupter {
    /// Captures the main state of `lua`.
    pub fn of(lua: &mlua::Lua) -> mlua::Result<Interrupter> {
        let mut state = 0usize;
        // SAFETY: the closure only reads the state pointer, which lives as long as the VM.
        unsafe { lua.exec_raw::<()>((), |s| state = s as usize)? };
        Ok(Interrupter { state })
    }

    /// Makes the running call (if any) raise [`INTERRUPTED`] at its next instruction, and every one after, until
    /// [`Interrupter::disarm`]. The VM must outlive every use of this handle.
    pub fn arm(&self) {
        // SAFETY: the state is the main state of a live VM (caller's contract); LuaJIT allows lua_sethook from
        // another thread, and the hook is global to the VM.
        unsafe { ffi::lua_sethook(self.state as *mut ffi::lua_State, Some(raise), ffi::LUA_MASKCOUNT, 1) };
    }

    /// Removes the hook. Call on the VM's own thread once the interrupted call has returned.
    pub fn disarm(&self) {
        // SAFETY: as `arm`.
        unsafe { ffi::lua_sethook(self.state as *mut ffi::lua_State, None, 0, 0) };
    }
}
