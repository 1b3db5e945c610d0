//! [`BodyPlan`]: the once-per-issue half of an issue's body hash.
//!
//! SHA-256 can't skip ahead, so every byte after the first slot is hashed
//! again for each recipient; what the plan saves is the canonicalization of
//! all shared bytes and the hashing of everything before the first slot.
//! The text part comes first, so that is the text part up to its footer.
use sha2::{Digest, Sha256};

use super::canon;

/// A template body's shared segments, canonicalized once, and the hash state
/// after the segment before the first slot.
#[derive(Clone)]
pub struct BodyPlan {
    prefix: Sha256,
    /// The canonical segment after each slot; the last one is finished.
    rest: Vec<Vec<u8>>,
}

impl std::fmt::Debug for BodyPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes: usize = self.rest.iter().map(Vec::len).sum();
        write!(
            f,
            "BodyPlan({} slots, {bytes} bytes after the first)",
            self.rest.len()
        )
    }
}

impl BodyPlan {
    /// Plans a body made of `segments` with one slot between each two.
    /// `None` when a slot would not start at a line start or the last
    /// segment has no content of its own: canonicalizing the pieces apart
    /// would then differ from canonicalizing the whole, so such a body is
    /// signed as a whole message instead.
    pub fn new(segments: &[&[u8]]) -> Option<Self> {
        let slots = segments.len().checked_sub(1)?;
        let mut all = Vec::with_capacity(segments.len());
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            if !last && !seg.is_empty() && !seg.ends_with(b"\r\n") {
                return None;
            }
            let mut c = Vec::with_capacity(seg.len());
            canon::body_piece(seg, &mut c);
            if last {
                canon::finish_body(&mut c);
                if c.iter().all(|&b| b == b'\r' || b == b'\n') && slots > 0 {
                    return None;
                }
            }
            all.push(c);
        }
        let mut prefix = Sha256::new();
        prefix.update(&all[0]);
        Some(Self {
            prefix,
            rest: all.split_off(1),
        })
    }

    /// The body hash of the copy whose slots each hold `slot` (the bytes
    /// written there), or `None` when `slot` does not end a line (then sign
    /// the whole message).
    pub fn body_hash(&self, slot: &[u8]) -> Option<[u8; 32]> {
        if !self.rest.is_empty() && !slot.ends_with(b"\r\n") {
            return None;
        }
        let mut slot_c = Vec::with_capacity(slot.len());
        canon::body_piece(slot, &mut slot_c);
        let mut h = self.prefix.clone();
        for seg in &self.rest {
            h.update(&slot_c);
            h.update(seg);
        }
        Some(h.finalize().into())
    }
}
