//! Lint rules over a parsed issue and its rendered email.
