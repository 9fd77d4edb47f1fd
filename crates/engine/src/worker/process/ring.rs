//! The frame ring a worker process and the compositor share: a memfd of a few slots, mapped by both. The process
//! writes a finished frame's pixels into a slot the compositor gave back, then names the slot on the socket; the
//! compositor uploads them into a texture of its own and gives the slot back. The socket orders every hand-over,
//! so a slot is written by one side at a time.
//!
//! This is the path every driver takes today: llvmpipe exports no dma-buf, and the dma-buf path for GPUs
//! (EGL_MESA_image_dma_buf_export) is not built yet.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Slots in the ring: one being written, one waiting, one being uploaded.
pub const RING_SLOTS: usize = 3;
/// The largest frame a slot holds: 2048 x 2048 RGBA8 (a preview panel of a 4K window is 1305 x 734). Pages of a
/// memfd are only allocated when written, so the reserve costs address space, not memory.
pub const SLOT_BYTES: usize = 2048 * 2048 * 4;

pub struct Ring {
    fd: OwnedFd,
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping belongs to the ring and lives as long as it; which side may touch a slot is decided by the
// protocol above, not by which thread holds the ring.
unsafe impl Send for Ring {}

impl Ring {
    /// A new ring, for the compositor to hand its fd to a worker process.
    pub fn create() -> io::Result<Ring> {
        let len = RING_SLOTS * SLOT_BYTES;
        // SAFETY: the name is a NUL-terminated string; the fd returned is checked and owned at once.
        let fd = unsafe { libc::memfd_create(c"allsource-frames".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: memfd_create returned a new fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain call on an fd this function owns.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ring::map(fd)
    }

    /// Maps a ring whose fd was handed down by the compositor.
    pub fn open(fd: OwnedFd) -> io::Result<Ring> {
        Ring::map(fd)
    }

    fn map(fd: OwnedFd) -> io::Result<Ring> {
        let len = RING_SLOTS * SLOT_BYTES;
        // SAFETY: a shared mapping of a file this ring owns, of the length it was sized to; checked for failure.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring { fd, base: base.cast(), len })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The first `bytes` of slot `slot` (None past the ring).
    pub fn slot(&self, slot: usize, bytes: usize) -> Option<&[u8]> {
        (slot < RING_SLOTS && bytes <= SLOT_BYTES)
            // SAFETY: inside the mapping; the protocol gives this side the slot while it reads it.
            .then(|| unsafe { std::slice::from_raw_parts(self.base.add(slot * SLOT_BYTES), bytes) })
    }

    /// The first `bytes` of slot `slot`, to write (None past the ring).
    pub fn slot_mut(&mut self, slot: usize, bytes: usize) -> Option<&mut [u8]> {
        (slot < RING_SLOTS && bytes <= SLOT_BYTES)
            // SAFETY: inside the mapping; the protocol gives this side the slot while it writes it, and `&mut self`
            // makes this the only slice of the ring on this side.
            .then(|| unsafe { std::slice::from_raw_parts_mut(self.base.add(slot * SLOT_BYTES), bytes) })
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}
