//! Helpers shared by the integration tests.
#![allow(dead_code, missing_docs)]

/// `raw` fed to a cleaner `size` bytes at a time, its final text taken after each read, as
/// a stream is cleaned.
pub fn clean_in_pieces(raw: &[u8], size: usize) -> (String, ssmlog_logs::SessionMeta) {
    let mut c = ssmlog_logs::Cleaner::new();
    let (mut text, mut part) = (String::new(), String::new());
    for bytes in raw.chunks(size) {
        c.feed(bytes);
        c.take(&mut part);
        text.push_str(&part);
        part.clear();
    }
    c.finish();
    c.take(&mut text);
    (text, c.meta().clone())
}
