//! [`Hint`]: what a person can do about an error, kept apart from the error's message.
//!
//! Why separate: an error's `Display` is one lowercase line that says what went wrong, and a writer (the terminal
//! output, a report) prints the hint on a line of its own, in whatever form it uses. Gluing `"\n(hint: …)"` into
//! `Display` would make every writer that wants the message alone parse the first line back out of it, which breaks
//! as soon as a message wraps or another error embeds this one.
//!
//! Invariant: no implementor's `Display` contains a newline, and a hint never repeats the message; a reader never
//! parses a hint out of `Display`.

/// The hint for an error: what to do about it, without the `(hint: …)` decoration a writer adds.
pub trait Hint {
    /// What a person can do about this error, or `None` when there is nothing useful to say.
    fn hint(&self) -> Option<String>;
}
