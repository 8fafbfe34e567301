//! One module per subcommand.
pub mod audit;
pub mod info;
pub mod serve;
pub mod wallet;
