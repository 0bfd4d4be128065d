//! Pipes between `era_copy --dest-delta -` and `era_copy --apply -`.

use std::os::fd::AsFd;

/// The pipe size asked for: Linux's default limit for an unprivileged process
/// (`/proc/sys/fs/pipe-max-size`).
const PIPE_BYTES: usize = 1 << 20;

/// Widens the pipe behind `fd`, if it is one, from the default 64 KiB to 1 MiB, so that
/// the writer and the reader of a delta stream hand over megabytes at a time rather
/// than switching at every 64 KiB. Anything else (a file, a terminal, a refusal) is
/// left as it is: the size only affects speed.
pub fn widen(fd: &impl AsFd) {
    let is_pipe = rustix::fs::fstat(fd).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Fifo
    });
    if is_pipe {
        let _ = rustix::pipe::fcntl_setpipe_size(fd, PIPE_BYTES);
    }
}
