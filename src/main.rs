// fsi allocates many small strings (parsed XML and Python, emitted TypeScript); mimalloc is
// markedly faster than the system allocator for that pattern (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    fsi::cli::main()
}
