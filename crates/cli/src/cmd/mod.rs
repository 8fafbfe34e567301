//! One module per subcommand.
pub mod audit;
pub mod info;
pub mod serve;
