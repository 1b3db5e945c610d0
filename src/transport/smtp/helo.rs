//! HELO for relays that reject EHLO (RFC 5321 §4.1.4 and §3.2: a client
//! whose EHLO is refused should fall back to HELO). lettre always opens a
//! session with EHLO and has no HELO, so the fallback connection wraps its
//! socket in [`HeloStream`], which turns the session's first `EHLO` into
//! `HELO` on the way out: lettre then reads the HELO reply as a server
//! with no extensions (no STARTTLS, no AUTH, no SMTPUTF8), which is what a
//! HELO relay is. Hand-written because no crate offers it; it touches only
//! the first four bytes the session writes.
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream whose first `EHLO` command goes out as `HELO`.
#[derive(Debug)]
pub struct HeloStream {
    inner: TcpStream,
    /// Whether the first `EHLO` still has to be rewritten.
    pending: bool,
}

impl HeloStream {
    /// Wraps a freshly connected stream.
    pub fn new(inner: TcpStream) -> Self {
        Self {
            inner,
            pending: true,
        }
    }
}

/// `buf` with a leading `EHLO` turned into `HELO`, if it has one.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    buf.starts_with(b"EHLO ").then(|| {
        let mut out = buf.to_vec();
        out[..4].copy_from_slice(b"HELO");
        out
    })
}

impl AsyncWrite for HeloStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending
            && let Some(helo) = rewrite(buf)
        {
            let n = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &helo))?;
            // A write of at least the verb settles it; the same length
            // goes out, so lettre's count stays right.
            if n >= 4 {
                self.pending = false;
            }
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncRead for HeloStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncTokioStream for HeloStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_leading_ehlo_is_rewritten() {
        assert_eq!(
            rewrite(b"EHLO mail.example\r\n").as_deref(),
            Some(&b"HELO mail.example\r\n"[..])
        );
        assert_eq!(rewrite(b"MAIL FROM:<a@b>\r\n"), None);
        assert_eq!(rewrite(b"XEHLO x\r\n"), None);
    }
}
