//! The library's error type. `Input` errors are the user's to fix (exit status 2); the rest are
//! failures of a run (a tool that broke, a co-simulation mismatch: exit status 1).

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad parameters or bad input files: one line saying what and why.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Formatbook(#[from] crate::format::FormatbookError),
    /// An external tool is missing, failed, or the environment refused an operation.
    #[error("{0}")]
    Tool(String),
    /// A check failed (co-simulation mismatch, reference output differs).
    #[error("{0}")]
    Check(String),
}

impl Error {
    /// An input error; a message that spans lines (a parser's excerpt) is folded into one, so
    /// the user always gets the one line the exit-2 contract promises.
    pub fn input(msg: impl Into<String>) -> Error {
        let msg: String = msg.into();
        if msg.contains(['\n', '\r']) {
            Error::Input(msg.split_whitespace().collect::<Vec<_>>().join(" "))
        } else {
            Error::Input(msg)
        }
    }

    pub fn tool(msg: impl Into<String>) -> Error {
        Error::Tool(msg.into())
    }

    /// Process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Formatbook(_) => 2,
            Error::Tool(_) | Error::Check(_) => 1,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
