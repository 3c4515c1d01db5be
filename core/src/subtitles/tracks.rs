//! The track list of [`Subtitles`]: the text renditions of an adaptive presentation
//! ([`Subtitles::add_renditions`]) and side-loaded files ([`Subtitles::add_file`]), which of
//! them is shown ([`Subtitles::select`]: a new choice cancels the request in flight and empties
//! the cue store), and how a failure ends ([`Subtitles::give_up`]: a segment of a segmented
//! track is skipped; its playlist, an init segment or a single file breaks the track, which is
//! reported once). The other parts fetch and read the tracks made here.

use std::collections::{HashMap, HashSet};

use super::{Subtitles, TextTrackInfo, TextTrackKind, Timing, Track, What};
use crate::demux::mp4::WVTT;
use crate::error::Error;
use crate::host::{HostCommand, PlayerEvent};
use crate::net::RequestService;
use crate::stream::model::{MediaRef, Rendition, Segment, SegmentList, Variables};
use crate::text::webvtt::StyleSheet;

impl Subtitles {
    /// The tracks, in the order their indices refer to.
    pub fn tracks(&self) -> Vec<TextTrackInfo> {
        self.tracks.iter().map(|t| t.info.clone()).collect()
    }

    /// The track shown, if any.
    pub fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// The variables of the HLS multivariant playlist the text renditions come from
    /// ([`crate::stream::Presentation::variables`]), for their media playlists'
    /// `EXT-X-DEFINE:IMPORT`. Set before [`Subtitles::add_renditions`].
    pub fn set_hls_variables(&mut self, variables: Option<Variables>) {
        self.hls_variables = variables;
    }

    /// Adds the WebVTT text renditions of an adaptive presentation: WebVTT files or segments,
    /// and (DASH) `wvtt` in fragmented MP4; others (TTML) are not listed. `dash`: cue times
    /// are relative to the period start. Selects the manifest's default track unless the app
    /// already chose.
    pub fn add_renditions(
        &mut self,
        renditions: &[Rendition],
        period_starts: &[i64],
        dash: bool,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let mut seen = HashSet::new();
        let mut added = false;
        for r in renditions {
            let wvtt = r.codecs.iter().any(|c| c.eq_ignore_ascii_case(WVTT));
            let vtt = r.codecs.is_empty() || r.codecs.iter().any(|c| c.eq_ignore_ascii_case("vtt"));
            if !(vtt || (wvtt && dash)) {
                continue;
            }
            if !seen.insert(r.track.clone()) {
                continue;
            }
            let (playlist, list) = match &r.media {
                Some(MediaRef::Playlist { url }) if !wvtt => (Some(url.clone()), None),
                Some(MediaRef::Segments(l)) => (None, Some(l.clone())),
                _ => continue,
            };
            self.tracks.push(Track {
                info: TextTrackInfo {
                    id: r.id.clone(),
                    language: r.language.clone(),
                    name: r.name.clone(),
                    kind: TextTrackKind::Subtitles,
                    default: r.default,
                    forced: r.forced,
                    side_loaded: false,
                },
                playlist,
                list,
                timing: if dash { Timing::Offset(0) } else { Timing::Hls },
                period_starts: if dash {
                    period_starts.to_vec()
                } else {
                    Vec::new()
                },
                loaded: HashSet::new(),
                failed: HashSet::new(),
                next_reload: None,
                broken: false,
                wvtt,
                inits: HashMap::new(),
                media_offsets: HashMap::new(),
            });
            added = true;
        }
        if added {
            out.push(HostCommand::Emit(PlayerEvent::TextTracksChanged));
            if !self.chosen && self.selected.is_none() {
                if let Some(i) = self.tracks.iter().position(|t| t.info.default) {
                    self.select_inner(Some(i), net, out);
                }
            }
        }
    }

    /// Shows the default track, else the first, unless the app chose already: for a
    /// presentation whose only content is its text, where nothing shown would be a blank.
    pub fn select_default_or_first(
        &mut self,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if self.chosen || self.selected.is_some() || self.tracks.is_empty() {
            return;
        }
        let i = self.tracks.iter().position(|t| t.info.default).unwrap_or(0);
        self.select_inner(Some(i), net, out);
    }

    /// Adds a side-loaded WebVTT file; returns its index. It is not selected.
    pub fn add_file(
        &mut self,
        url: String,
        language: Option<String>,
        name: String,
        kind: TextTrackKind,
        out: &mut Vec<HostCommand>,
    ) -> usize {
        let index = self.tracks.len();
        let name = if name.is_empty() {
            language
                .clone()
                .unwrap_or_else(|| format!("Track {}", index + 1))
        } else {
            name
        };
        let mut list = SegmentList::empty(0);
        list.end_list = true;
        list.segments.push(Segment {
            number: 0,
            start_us: 0,
            duration_us: 0,
            url,
            range: None,
            init: None,
            discontinuity: 0,
            period: 0,
            encryption: crate::stream::Encryption::Clear,
            gap: false,
            program_date_time_ms: None,
        });
        self.tracks.push(Track {
            info: TextTrackInfo {
                id: format!("sideload-{index}"),
                language,
                name,
                kind,
                default: false,
                forced: false,
                side_loaded: true,
            },
            playlist: None,
            list: Some(list),
            timing: Timing::Offset(0),
            period_starts: Vec::new(),
            loaded: HashSet::new(),
            failed: HashSet::new(),
            next_reload: None,
            broken: false,
            wvtt: false,
            inits: HashMap::new(),
            media_offsets: HashMap::new(),
        });
        out.push(HostCommand::Emit(PlayerEvent::TextTracksChanged));
        index
    }

    /// Shows track `index` (`None`: subtitles off). Unknown indices are ignored.
    pub fn select(
        &mut self,
        index: Option<usize>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if index.is_some_and(|i| i >= self.tracks.len()) {
            return;
        }
        self.chosen = true;
        self.select_inner(index, net, out);
    }

    fn select_inner(
        &mut self,
        index: Option<usize>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if index == self.selected {
            return;
        }
        self.cancel(net, out);
        self.store.clear();
        self.styles = StyleSheet::default();
        for t in &mut self.tracks {
            t.loaded.clear();
            t.failed.clear();
        }
        self.selected = index;
        if !self.shown.is_empty() {
            self.shown.clear();
            out.push(HostCommand::ShowSubtitles { cues: Vec::new() });
        }
        out.push(HostCommand::Emit(PlayerEvent::TextTrackChanged(index)));
    }

    /// A segment of a segmented track is skipped; a playlist or a whole file breaks the
    /// track, which is reported once.
    pub(super) fn give_up(
        &mut self,
        track: usize,
        what: What,
        error: Error,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(t) = self.tracks.get_mut(track) else {
            return;
        };
        let whole = match what {
            // Without its playlist, init segment or key (which segments share) nothing of the
            // track can be read.
            What::Playlist | What::Init(_) | What::Key(..) => true,
            What::Segment(n) => {
                t.failed.insert(n);
                t.list.as_ref().is_some_and(|l| l.segments.len() == 1)
            }
        };
        if whole && !t.broken {
            t.broken = true;
            out.push(HostCommand::Emit(PlayerEvent::TextTrackError {
                track,
                error,
            }));
        }
    }
}
