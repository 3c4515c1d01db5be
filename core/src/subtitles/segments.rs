//! Reading the text that arrived, for [`Subtitles`]: HLS media playlists
//! ([`Subtitles::on_playlist`]; a live one sets when it is reloaded), WebVTT files and
//! segments ([`Subtitles::on_segment`]) put on the presentation timeline by their track's
//! `Timing` (the period start, or `X-TIMESTAMP-MAP` and the discontinuity's offset: the module
//! documentation's Timing paragraph), and WebVTT in fragmented MP4 (`wvtt` samples, read with
//! their init segment). Also the live DASH refresh of the manifest tracks' segment lists
//! ([`Subtitles::refresh_lists`]) and which segments are loaded.
//!
//! Cues go into the cue store and a segment's STYLE blocks replace the style sheet, for
//! `display.rs`; what cannot be read goes to [`Subtitles::give_up`].

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{Subtitles, Timing, What};
use crate::adaptive::segments::parse_segment;
use crate::demux::mp4::WVTT;
use crate::error::{Error, ErrorKind};
use crate::host::HostCommand;
use crate::stream::hls;
use crate::stream::model::{MediaRef, Rendition, Segment};
use crate::text::webvtt::{self, Cue, StyleSheet};

impl Subtitles {
    /// The adaptive source's text version the track lists were last taken from.
    pub fn lists_version(&self) -> u64 {
        self.lists_version
    }

    /// Live DASH: the refreshed MPD's segment lists of the manifest's text tracks, when
    /// `version` differs from the last one taken (segments that left the window are forgotten).
    pub fn refresh_lists(&mut self, version: u64, renditions: &[Rendition]) {
        if version == self.lists_version {
            return;
        }
        self.lists_version = version;
        for r in renditions {
            let Some(MediaRef::Segments(list)) = &r.media else {
                continue;
            };
            let track = self
                .tracks
                .iter_mut()
                .find(|t| !t.info.side_loaded && t.playlist.is_none() && t.info.id == r.id);
            if let Some(t) = track {
                let numbers: HashSet<u64> = list.segments.iter().map(|s| s.number).collect();
                t.loaded.retain(|n| numbers.contains(n));
                t.failed.retain(|n| numbers.contains(n));
                t.list = Some(list.clone());
            }
        }
    }

    /// The media playlist of `track` arrived (HLS): its segment list replaces the last one
    /// (a live one also sets when it is reloaded).
    pub(super) fn on_playlist(
        &mut self,
        now: Duration,
        track: usize,
        body: &[u8],
        out: &mut Vec<HostCommand>,
    ) {
        let Some(t) = self.tracks.get_mut(track) else {
            return;
        };
        let url = t.playlist.clone().unwrap_or_default();
        match hls::parse_with_imports(body, &url, self.hls_variables.as_ref()) {
            Ok(hls::Parsed::Media(list)) => {
                if !list.end_list {
                    let wait = hls::reload_interval(t.list.as_ref(), &list)
                        .unwrap_or(Duration::from_secs(2));
                    t.next_reload = Some(now + wait);
                } else {
                    t.playlist = None;
                }
                let numbers: HashSet<u64> = list.segments.iter().map(|s| s.number).collect();
                t.loaded.retain(|n| numbers.contains(n));
                t.list = Some(list);
            }
            Ok(hls::Parsed::Multivariant(_)) => self.give_up(
                track,
                What::Playlist,
                Error::new(
                    ErrorKind::Decode,
                    "text track: a multivariant playlist where a media playlist was expected",
                ),
                out,
            ),
            Err(e) => self.give_up(track, What::Playlist, e, out),
        }
    }

    /// Segment `number` of `track` arrived: its cues, on the presentation timeline, go into
    /// the cue store.
    pub(super) fn on_segment(
        &mut self,
        track: usize,
        number: u64,
        body: &[u8],
        offset: &dyn Fn(u64) -> Option<i64>,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(t) = self.tracks.get_mut(track) else {
            return;
        };
        let Some(seg) = t
            .list
            .as_ref()
            .and_then(|l| l.segments.iter().find(|s| s.number == number))
            .cloned()
        else {
            return;
        };
        if t.wvtt {
            let init = seg
                .init
                .and_then(|i| t.inits.get(&i))
                .map_or(&[][..], Vec::as_slice);
            match wvtt_cues(init, body, &seg, &mut t.media_offsets) {
                Ok((cues, styles)) => {
                    t.loaded.insert(number);
                    if !styles.is_empty() {
                        self.styles = styles;
                        self.dirty = true;
                    }
                    self.store.extend(cues);
                }
                Err(e) => self.give_up(track, What::Segment(number), e, out),
            }
            return;
        }
        let mut file = match webvtt::parse(body) {
            Ok(f) => f,
            Err(e) => {
                self.give_up(track, What::Segment(number), e, out);
                return;
            }
        };
        let shift = match t.timing {
            Timing::Offset(o) => {
                o.saturating_add(t.period_starts.get(seg.period).copied().unwrap_or_default())
            }
            Timing::Hls => match file.timestamp_map {
                Some(map) => {
                    let disc = offset(seg.discontinuity).unwrap_or_default();
                    // The 90 kHz time of the segment's start, to unwrap MPEGTS near it.
                    let reference = (seg.start_us.saturating_add(disc)).saturating_mul(9) / 100;
                    map.offset_us(Some(reference)).saturating_sub(disc)
                }
                None => 0,
            },
        };
        file.shift(shift);
        t.loaded.insert(number);
        if !file.styles.is_empty() {
            self.styles = file.style_sheet();
            self.dirty = true;
        }
        self.store.extend(file.cues);
    }

    /// Numbers of the selected track's segments loaded so far (diagnostics, tests).
    pub fn loaded_segments(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .selected
            .and_then(|i| self.tracks.get(i))
            .map(|t| t.loaded.iter().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }
}

/// The cues of one `wvtt` segment on the presentation timeline, and the style sheet of its
/// `vttC` configuration. A period's first segment fixes its media-to-presentation offset
/// (`offsets`, by period): its first sample starts at the segment's start.
fn wvtt_cues(
    init: &[u8],
    body: &[u8],
    seg: &Segment,
    offsets: &mut HashMap<usize, i64>,
) -> Result<(Vec<Cue>, StyleSheet), Error> {
    let decode = |m: String| Error::new(ErrorKind::Decode, format!("wvtt segment: {m}"));
    let (parsed, _) = parse_segment(init, body, None).map_err(Error::from)?;
    let t = parsed
        .tracks
        .iter()
        .position(|t| t.codec == WVTT)
        .ok_or_else(|| decode("no wvtt track".into()))?;
    let config = parsed.tracks.get(t).and_then(|t| t.description.as_deref());
    let config = match config {
        Some(c) if !c.is_empty() => webvtt::parse(c).unwrap_or_default(),
        _ => webvtt::VttFile::default(),
    };
    let samples = parsed.samples.get(t).map_or(&[][..], Vec::as_slice);
    let Some(first) = samples.iter().map(|s| s.dts_us).min() else {
        return Ok((Vec::new(), config.style_sheet()));
    };
    let offset = *offsets
        .entry(seg.period)
        .or_insert_with(|| first.saturating_sub(seg.start_us));
    let mut cues = Vec::new();
    for s in samples {
        let start = usize::try_from(s.offset).map_err(|_| decode("sample offset".into()))?;
        let data = start
            .checked_add(s.size as usize)
            .and_then(|end| parsed.data.get(start..end))
            .ok_or_else(|| decode("sample past the segment".into()))?;
        let at = s.pts_us.saturating_sub(offset);
        cues.extend(webvtt::wvtt::parse_sample(
            data,
            at,
            s.duration_us,
            &config.regions,
        )?);
    }
    Ok((cues, config.style_sheet()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_wvtt_segment_is_a_typed_error() {
        let seg = Segment {
            number: 1,
            start_us: 0,
            duration_us: 2_000_000,
            url: String::new(),
            range: None,
            init: Some(0),
            discontinuity: 0,
            period: 0,
            encryption: crate::stream::Encryption::Clear,
            gap: false,
            program_date_time_ms: None,
        };
        let mut offsets = HashMap::new();
        for (init, body) in [
            (&b""[..], &b"garbage, not MP4"[..]),
            (&b"\0\0\0\x10ftypiso6\0\0\0\0"[..], &b"\0\0\0\x08moof"[..]),
        ] {
            let e = wvtt_cues(init, body, &seg, &mut offsets)
                .map(|_| ())
                .unwrap_err();
            assert!(
                matches!(e.kind, ErrorKind::Decode | ErrorKind::Unsupported),
                "{e:?}"
            );
        }
        assert!(offsets.is_empty());
    }
}
