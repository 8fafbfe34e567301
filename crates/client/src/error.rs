//! Client errors: each says what went wrong and, where it can, what to do. None carries secret
//! material.

/// Every failure of the client library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Refused to overwrite an existing key file.
    #[error("{0} already exists; refusing to overwrite a key file (move it away first)")]
    Exists(String),
    /// No org key where one was looked for.
    #[error(
        "no org key in {dir} ({file} is missing): run `blindvault org init` first, or point --dir or \
         $BLINDVAULT_HOME at the directory that holds it"
    )]
    NoOrgKey {
        /// The directory searched.
        dir: String,
        /// The missing file.
        file: String,
    },
    /// No token file at the given path.
    #[error(
        "{0}: no such token file. Make a token in the web app (Account → Command-line tokens) and save it \
         in that file (readable by you alone: chmod 600), or run `blindvault login`"
    )]
    NoTokenFile(String),
    /// Wrong passphrase or a damaged org key file.
    #[error("cannot open the org key file: wrong passphrase, or the file is damaged")]
    OrgKeyLocked,
    /// A file is not what it should be.
    #[error("{path}: {why}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A core (protocol) error.
    #[error(transparent)]
    Core(#[from] blindvault_core::Error),
    /// A template problem.
    #[error("template: {0}")]
    Template(String),
    /// The child process could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// What the command was given cannot be used: an argument, a value, a file's content, or
    /// a precondition of what was asked (no such enrolment, no approvers yet). The message says
    /// what to give instead.
    #[error("{0}")]
    Input(String),
    /// The server answered something that does not hold up: malformed, for another request or
    /// entry, not signed by the org key, or contradicting what this machine already knows.
    /// Refused; nothing was opened or signed with it.
    #[error("{0}")]
    Server(String),
    /// The request and its lease: the request was withdrawn, or the command lost track of the
    /// child it runs.
    #[error("{0}")]
    Lease(String),
    /// A confirmation was not given: a question answered no (or no `--yes`), a passkey step-up
    /// refused or cancelled in the web app.
    #[error("{0}")]
    NotConfirmed(String),
    /// Part of what was asked was done and the rest was not (the message says what to run).
    #[error("{0}")]
    Incomplete(String),
    /// This machine: the async runtime, signal handlers, the terminal, reading stdin, the org
    /// key file's encryption, printing JSON.
    #[error("{0}")]
    Local(String),
    /// A broker call failed.
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    /// An approver denied a request (exit code 3).
    #[error("{0}")]
    Denied(String),
    /// A request expired before enough people approved (exit code 4).
    #[error("{0}")]
    Expired(String),
    /// The broker refused this host: unknown, revoked, or not allowed the entry (exit code 5).
    #[error("{0}")]
    HostRefused(String),
    /// A signal stopped the command while it waited (exit code 128 + the signal's number).
    #[error("{what}")]
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// What happened (and whether the requests were withdrawn).
        what: String,
    },
}

impl ClientError {
    /// The exit code a command reports for this error: 3 denied, 4 expired, 5 host refused,
    /// 128 + N interrupted by signal N, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Denied(_) => 3,
            ClientError::Expired(_) => 4,
            ClientError::HostRefused(_) => 5,
            ClientError::Interrupted { signal, .. } => {
                u8::try_from(128 + (*signal).clamp(0, 127)).unwrap_or(1)
            }
            _ => 1,
        }
    }
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }
    pub(crate) fn bad_file(path: &std::path::Path, why: impl Into<String>) -> Self {
        Self::BadFile { path: path.display().to_string(), why: why.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::ClientError;

    /// What was one `Lease(String)` is six variants now: each still prints its message as it is
    /// and exits 1, as before the split.
    #[test]
    fn the_split_variants_print_their_message_and_exit_1() {
        let all = [
            ClientError::Input("a".into()),
            ClientError::Server("b".into()),
            ClientError::Lease("c".into()),
            ClientError::NotConfirmed("d".into()),
            ClientError::Incomplete("e".into()),
            ClientError::Local("f".into()),
        ];
        for (e, text) in all.iter().zip(["a", "b", "c", "d", "e", "f"]) {
            assert_eq!(e.to_string(), text);
            assert_eq!(e.exit_code(), 1);
        }
    }
}
