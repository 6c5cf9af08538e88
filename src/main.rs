//! The `doublure` binary: serves the emulated APIs, or runs one of the
//! subcommands (`fixtures validate`, `fixtures generate`, `fixtures
//! import`, `sign`, `healthcheck`). The command line lives in the library,
//! behind its `cli` feature.

/// mimalloc rather than the C library's allocator: measured in
/// docs/performance.md, on the hot routes and with a million users, and
/// above all in the static musl build, whose own allocator is slow.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    doublure::cli_main()
}
