//! The lexical embedder: hashed character n-grams.
//!
//! Each text contributes its character unigrams, bigrams and trigrams (ignoring whitespace and
//! punctuation), hashed with FNV-1a into `dim` buckets with a hash-derived sign, then
//! L2-normalised. Texts that share words share n-grams, so similar wording gives similar
//! vectors; it knows nothing of meaning. It is fast, needs no files, and is identical on every
//! machine, which makes it the embedder of tests and the fallback of production.

use super::{EmbedError, Embedder, EmbedderInfo, Mode, normalize};

/// Hashed character n-grams.
#[derive(Debug, Clone)]
pub struct Lexical {
    info: EmbedderInfo,
}

impl Default for Lexical {
    fn default() -> Self {
        Lexical::new(256)
    }
}

impl Lexical {
    pub fn new(dim: usize) -> Lexical {
        Lexical {
            info: EmbedderInfo {
                id: format!("lexical-ngram-v1@{dim}"),
                dim,
            },
        }
    }

    fn vector(&self, text: &str) -> Vec<f32> {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let mut v = vec![0.0f32; self.info.dim];
        for n in 1..=3 {
            // Longer n-grams carry more of the wording.
            let weight = n as f32;
            for gram in chars.windows(n) {
                let h = fnv1a(gram);
                let bucket = (h % self.info.dim as u64) as usize;
                let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
                v[bucket] += sign * weight;
            }
        }
        normalize(&mut v);
        v
    }
}

fn fnv1a(chars: &[char]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chars {
        for b in (*c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

impl Embedder for Lexical {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str], _mode: Mode) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::cosine;

    #[test]
    fn deterministic_unit_vectors() {
        let e = Lexical::default();
        let a = e
            .embed_one("科技型中小企业贷款贴息", Mode::Passage)
            .unwrap();
        assert_eq!(
            a,
            e.embed_one("科技型中小企业贷款贴息", Mode::Query).unwrap()
        );
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert_eq!(a.len(), 256);
    }

    #[test]
    fn shared_wording_is_closer() {
        let e = Lexical::default();
        let q = e.embed_one("研发费用补贴", Mode::Query).unwrap();
        let near = e
            .embed_one("企业研发费用加计扣除与补贴", Mode::Passage)
            .unwrap();
        let far = e.embed_one("家庭农场春耕贷款", Mode::Passage).unwrap();
        assert!(cosine(&q, &near) > cosine(&q, &far) + 0.2);
    }

    #[test]
    fn empty_text_is_a_zero_vector() {
        let v = Lexical::default().embed_one("", Mode::Query).unwrap();
        assert!(v.iter().all(|x| *x == 0.0));
    }
}
