fn main() -> std::process::ExitCode {
    fsi::cli::main()
}
