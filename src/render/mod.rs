//! Render an issue into the HTML and plain-text parts of its email.
