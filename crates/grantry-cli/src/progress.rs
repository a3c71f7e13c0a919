//! The progress of a large upload (a CSV import): a bar of the bytes sent, then a spinner while
//! the server checks every row and writes them. Drawn on standard error, and only when it is a
//! terminal and the body is large; otherwise nothing is drawn and nothing changes.

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// Bodies at least this large show their progress.
pub const SHOWN_FROM: usize = 256 * 1024;
/// The piece of the body each step of the bar stands for.
const PIECE: usize = 64 * 1024;

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// `data` as a request body that moves a bar as it is sent, and the bar — hidden for a small
/// body or when standard error is no terminal. Once every byte is sent the bar turns into a
/// spinner saying `then`; clear it with `finish_and_clear` when the answer comes.
pub fn upload(data: Vec<u8>, what: &str, then: &str) -> (reqwest::Body, ProgressBar) {
    let total = data.len() as u64;
    let bar = if data.len() >= SHOWN_FROM {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(style("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}").progress_chars("=> "));
    bar.set_message(format!("Sending {what}"));
    let pieces: Vec<Vec<u8>> = data.chunks(PIECE).map(<[u8]>::to_vec).collect();
    let (moved, then) = (bar.clone(), then.to_owned());
    let stream = futures_util::stream::iter(pieces).map(move |piece| {
        moved.inc(piece.len() as u64);
        if moved.position() >= total {
            moved.set_style(style("{spinner} {msg} ({elapsed})"));
            moved.set_message(then.clone());
            moved.enable_steady_tick(Duration::from_millis(120));
        }
        Ok::<_, std::io::Error>(piece)
    });
    (reqwest::Body::wrap_stream(stream), bar)
}
