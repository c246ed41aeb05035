//! `gatehouse`: the command line, without the GUI libraries (see `lib.rs`).

fn main() -> std::process::ExitCode {
    gatehouse_cli::main()
}
