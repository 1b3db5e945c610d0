//! `MessageTemplate`: the whole MIME message as bytes, with holes for slots.
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc2822;

use super::dkim::{BodyPlan, Signer};
use super::headers::{self, HeaderError};
use super::qp::Encoder;
use super::{MessageContext, RecipientSlots};
use crate::model::{Rendered, Slot};

/// Where a per-recipient value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    To,
    MessageId,
    ListUnsubscribe,
    /// The https unsubscribe URL inside a quoted-printable body.
    BodyUnsubscribeUrl,
}

/// A complete message for one issue; [`MessageTemplate::personalize`] fills
/// in one recipient's values without re-rendering or re-encoding the bodies.
#[derive(Debug, Clone)]
pub struct MessageTemplate {
    bytes: Vec<u8>,
    /// (offset into `bytes`, what goes there), in order.
    holes: Vec<(usize, Hole)>,
    /// Where the body starts (after the empty line).
    body_start: usize,
    /// DKIM signing, when configured.
    dkim: Option<Signing>,
}

/// A signer and what it precomputed for this template's body.
#[derive(Debug, Clone)]
struct Signing {
    signer: Arc<Signer>,
    /// `None` when the body can't be planned: copies are signed whole.
    plan: Option<BodyPlan>,
}

impl MessageTemplate {
    /// Assembles the template. Fails if a header value would break the
    /// header block (CR/LF injection) or a mailbox is malformed.
    pub fn build(rendered: &Rendered, ctx: &MessageContext) -> Result<Self, HeaderError> {
        let subject = headers::single_line("Subject", &rendered.subject)?;
        // RFC 5322 dates need a four-digit year from 1900 on.
        let date = ctx.date.format(&Rfc2822).map_err(|_| HeaderError::Date {
            value: ctx.date.date().to_string(),
        })?;
        let boundary = boundary_for(rendered);
        let mut t = Self {
            bytes: Vec::with_capacity(
                rendered.html.len() * 11 / 10 + rendered.text.len() * 11 / 10 + 2048,
            ),
            holes: Vec::new(),
            body_start: 0,
            dkim: None,
        };
        headers::push(&mut t.bytes, "From", &ctx.from);
        t.hole_line("To", Hole::To);
        headers::push(
            &mut t.bytes,
            "Subject",
            &headers::encode_unstructured("Subject", subject),
        );
        headers::push(&mut t.bytes, "Date", &date);
        t.hole_line("Message-ID", Hole::MessageId);
        headers::push(&mut t.bytes, "MIME-Version", "1.0");
        if let Some(reply_to) = &ctx.reply_to {
            headers::push(&mut t.bytes, "Reply-To", reply_to);
        }
        headers::push(&mut t.bytes, "List-Id", &ctx.list_id);
        t.hole_line("List-Unsubscribe", Hole::ListUnsubscribe);
        headers::push(
            &mut t.bytes,
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click",
        );
        if let Some(feedback_id) = &ctx.feedback_id {
            headers::push(&mut t.bytes, "Feedback-ID", feedback_id);
        }
        // Folded: on one line it is 83 characters.
        let content_type = format!("multipart/alternative;\r\n boundary=\"{boundary}\"");
        headers::push(&mut t.bytes, "Content-Type", &content_type);
        t.bytes.extend_from_slice(b"\r\n");
        t.body_start = t.bytes.len();
        t.part(&boundary, "text/plain", &rendered.text);
        t.part(&boundary, "text/html", &rendered.html);
        t.bytes
            .extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Ok(t)
    }

    fn hole_line(&mut self, name: &str, hole: Hole) {
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.extend_from_slice(b": ");
        self.holes.push((self.bytes.len(), hole));
        self.bytes.extend_from_slice(b"\r\n");
    }

    fn part(&mut self, boundary: &str, mime: &str, body: &str) {
        let head = format!(
            "--{boundary}\r\nContent-Type: {mime}; charset=utf-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        );
        self.bytes.extend_from_slice(head.as_bytes());
        let marker = Slot::UnsubscribeUrl.marker();
        let mut enc = Encoder::new();
        let mut pieces = body.split(marker).peekable();
        while let Some(piece) = pieces.next() {
            enc.push(piece, &mut self.bytes);
            if pieces.peek().is_some() {
                enc.soft_break(&mut self.bytes);
                self.holes
                    .push((self.bytes.len(), Hole::BodyUnsubscribeUrl));
            }
        }
        // This CRLF belongs to the boundary delimiter, not to the body.
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// One recipient's complete message.
    pub fn personalize(&self, r: &RecipientSlots) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + 1024);
        self.personalize_into(r, &mut out);
        out
    }

    /// Whether each message gets DKIM signatures (a few hundred
    /// microseconds of CPU each, mostly the RSA signature).
    pub fn is_signed(&self) -> bool {
        self.dkim.is_some()
    }

    /// Appends one recipient's complete message to `out` (reuse the buffer
    /// across recipients to avoid allocating), DKIM-signed when the
    /// template is [`signed`](Self::signed).
    pub fn personalize_into(&self, r: &RecipientSlots, out: &mut Vec<u8>) {
        let start = out.len();
        let (head, body) = self.holes.split_at(
            self.holes
                .iter()
                .position(|&(at, _)| at >= self.body_start)
                .unwrap_or(self.holes.len()),
        );
        self.fill(0, head, self.body_start, r, &[], out);
        let mut slot = Vec::with_capacity(160);
        let mut enc = Encoder::new();
        enc.push(&r.unsubscribe_url, &mut slot);
        enc.soft_break(&mut slot);
        let Some(dkim) = &self.dkim else {
            return self.fill(self.body_start, body, self.bytes.len(), r, &slot, out);
        };
        match dkim.plan.as_ref().and_then(|p| p.body_hash(&slot)) {
            Some(bh) => {
                let sig = dkim.signer.headers(&out[start..], &bh);
                out.splice(start..start, sig);
                self.fill(self.body_start, body, self.bytes.len(), r, &slot, out);
            }
            None => {
                self.fill(self.body_start, body, self.bytes.len(), r, &slot, out);
                let signed = dkim.signer.sign_message(&out[start..]);
                out.truncate(start);
                out.extend_from_slice(&signed);
            }
        }
    }

    /// Appends `bytes[from..to]` with `holes` (all inside it) filled in;
    /// `slot` is the encoded unsubscribe URL for body holes.
    fn fill(
        &self,
        from: usize,
        holes: &[(usize, Hole)],
        to: usize,
        r: &RecipientSlots,
        slot: &[u8],
        out: &mut Vec<u8>,
    ) {
        let mut at = from;
        for &(offset, hole) in holes {
            out.extend_from_slice(&self.bytes[at..offset]);
            at = offset;
            match hole {
                Hole::To => out.extend_from_slice(r.to.as_str().as_bytes()),
                Hole::MessageId => out.extend_from_slice(r.message_id.as_bytes()),
                Hole::ListUnsubscribe => {
                    let v = format!("<{}>,\r\n <{}>", r.unsubscribe_url, r.unsubscribe_mailto);
                    out.extend_from_slice(v.as_bytes());
                }
                Hole::BodyUnsubscribeUrl => out.extend_from_slice(slot),
            }
        }
        out.extend_from_slice(&self.bytes[at..to]);
    }

    /// This template, DKIM-signing every copy with `signer`: the shared body
    /// segments are canonicalized, and hashed up to the first slot, here.
    pub fn signed(mut self, signer: Arc<Signer>) -> Self {
        let mut segments = Vec::new();
        let mut at = self.body_start;
        for &(offset, _) in self.holes.iter().filter(|(o, _)| *o >= self.body_start) {
            segments.push(&self.bytes[at..offset]);
            at = offset;
        }
        segments.push(&self.bytes[at..]);
        let plan = BodyPlan::new(&segments);
        self.dkim = Some(Signing { signer, plan });
        self
    }

    /// Whether copies are signed through the per-issue plan (for tests).
    #[cfg(test)]
    pub(crate) fn is_planned(&self) -> bool {
        self.dkim.as_ref().is_some_and(|d| d.plan.is_some())
    }

    /// Size of the shared bytes (without slot values).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the template is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// A boundary that cannot occur in quoted-printable text (`=_` never does,
/// since a literal `=` is always escaped), derived from the content so the
/// same issue always produces the same bytes.
fn boundary_for(rendered: &Rendered) -> String {
    let mut hash = Sha256::new();
    hash.update(rendered.text.as_bytes());
    hash.update(rendered.html.as_bytes());
    let hex: String = hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("=_mailroom_{hex}")
}
