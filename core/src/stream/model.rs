//! The presentation model shared by HLS and DASH: variants, renditions, segment lists, live timing.
//!
//! All times are microseconds (`_us`) on the presentation timeline, wall-clock instants are
//! milliseconds since the Unix epoch (`_ms`), URLs are absolute strings.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// Largest manifest (HLS playlist or DASH MPD) accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 16 << 20;
/// Most segments one [`SegmentList`] may hold.
pub const MAX_SEGMENTS: usize = 200_000;
/// Most segments one whole DASH presentation may expand to, over all its lists (a segment
/// costs roughly 150–250 bytes, so this bounds the model to a few hundred MB at worst).
pub const MAX_TOTAL_SEGMENTS: usize = 1_000_000;
/// Most variants plus renditions one manifest may declare.
pub const MAX_STREAMS: usize = 4096;
/// Most DASH periods one MPD may declare.
pub const MAX_PERIODS: usize = 1024;

/// A whole presentation: the quality ladder, the alternate audio and text tracks, timing.
#[derive(Debug, Clone, PartialEq)]
pub struct Presentation {
    /// The presentation grows while it plays (HLS: no `EXT-X-ENDLIST`; DASH: `type="dynamic"`).
    /// An HLS multivariant playlist does not say: `false` there until a media playlist is
    /// loaded ([`SegmentList::end_list`] tells).
    pub live: bool,
    /// Total duration when known (DASH `mediaPresentationDuration` or the end of the last
    /// period; an HLS media playlist with `EXT-X-ENDLIST`).
    pub duration_us: Option<i64>,
    /// Video (or muxed audio+video) quality levels, sorted by `bandwidth` ascending.
    /// DASH audio-only presentations have none: their [`Presentation::audio`] carries it all.
    pub variants: Vec<Variant>,
    /// Alternate audio tracks (HLS `EXT-X-MEDIA TYPE=AUDIO`; DASH audio Representations).
    pub audio: Vec<Rendition>,
    /// Subtitle tracks (HLS `EXT-X-MEDIA TYPE=SUBTITLES`; DASH text Representations).
    pub text: Vec<Rendition>,
    /// Thumbnail image tracks (DASH `contentType="image"` sets of tiled JPEG/PNG images, as
    /// DASH-IF IOP describes them), for seek previews: [`ImageTrack::thumbnail`].
    pub images: Vec<ImageTrack>,
    /// Live timing, for live presentations whose timing is known (not for a bare HLS
    /// multivariant playlist: see [`crate::stream::hls::live_info`]).
    pub live_info: Option<LiveInfo>,
    /// The periods (DASH; one implicit period for HLS). [`Segment::period`] indexes this.
    pub periods: Vec<Period>,
    /// Manifest features that were recognised but not used, for logs and later features.
    pub ignored: Vec<Ignored>,
    /// An HLS multivariant playlist's `EXT-X-DEFINE` variables, which the media playlists it
    /// names may `IMPORT`: pass them to [`crate::stream::hls::parse_with_imports`]. `Some`
    /// (maybe empty) only for a multivariant playlist; `None` for a media playlist loaded alone
    /// and for DASH.
    pub variables: Option<Variables>,
}

/// HLS variables (RFC 8216bis section 4.3, `EXT-X-DEFINE`): names and values in the order
/// they were defined; names are unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables(Vec<(String, String)>);

impl Variables {
    /// The value of `name`, if defined.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many are defined.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// None is defined.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Defines `name`; `false` (and nothing changes) if it already is.
    pub fn define(&mut self, name: &str, value: &str) -> bool {
        if self.get(name).is_some() {
            return false;
        }
        self.0.push((name.to_string(), value.to_string()));
        true
    }
}

impl Presentation {
    /// The audio renditions that may play with `variant`: those of its `audio_group` (HLS), or
    /// every audio rendition (DASH, where neither side has a group). Empty when the variant's
    /// own stream carries its audio (muxed).
    pub fn audio_for<'a>(&'a self, variant: &'a Variant) -> impl Iterator<Item = &'a Rendition> {
        self.audio
            .iter()
            .filter(move |r| r.group == variant.audio_group)
    }

    /// The text renditions that may play with `variant` (same rule as [`Self::audio_for`]).
    pub fn text_for<'a>(&'a self, variant: &'a Variant) -> impl Iterator<Item = &'a Rendition> {
        self.text
            .iter()
            .filter(move |r| r.group == variant.text_group)
    }
}

/// One DASH period (HLS: one implicit period covering everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `Period@id` when given.
    pub id: Option<String>,
    /// Start on the presentation timeline.
    pub start_us: i64,
    /// Duration when known (the last period of a live MPD usually has none).
    pub duration_us: Option<i64>,
}

/// A video (or muxed audio+video) quality level.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Stable identity: HLS, the position of its `EXT-X-STREAM-INF` in the playlist
    /// (`"0"`, `"1"`…); DASH, the `Representation@id` in the first period it appears in.
    pub id: String,
    /// Peak bits per second (HLS `BANDWIDTH`, DASH `@bandwidth`).
    pub bandwidth: u64,
    /// Average bits per second (HLS `AVERAGE-BANDWIDTH`) when given.
    pub average_bandwidth: Option<u64>,
    /// Picture width in pixels when given.
    pub width: Option<u32>,
    /// Picture height in pixels when given.
    pub height: Option<u32>,
    /// Frames per second when given.
    pub frame_rate: Option<f64>,
    /// Codec strings as the manifest gives them (RFC 6381 / WebCodecs style, e.g.
    /// `avc1.42c01e`, `mp4a.40.2`). HLS lists the audio codec of the variant here too.
    pub codecs: Vec<String>,
    /// HLS `AUDIO` group id; `None` in DASH (pairs with every audio rendition).
    pub audio_group: Option<String>,
    /// HLS `SUBTITLES` group id; `None` in DASH.
    pub text_group: Option<String>,
    /// Where its segments come from.
    pub media: MediaRef,
}

/// What an alternate track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenditionKind {
    /// Audio.
    Audio,
    /// Subtitles / captions as a separate text stream (WebVTT, TTML, or either in fMP4).
    Text,
}

/// An alternate audio or text track.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    /// Identity unique in the presentation: HLS `GROUP-ID/NAME`; DASH `Representation@id`.
    pub id: String,
    /// Audio or text.
    pub kind: RenditionKind,
    /// Renditions with the same `track` are the same content at different bitrates (a DASH
    /// AdaptationSet with several Representations): pick one by bandwidth. HLS: equal to `id`.
    pub track: String,
    /// RFC 5646 language tag when given.
    pub language: Option<String>,
    /// Human-readable name (HLS `NAME`; DASH `Label`, else the language, else the id).
    pub name: String,
    /// The manifest marks it as the default choice (HLS `DEFAULT=YES`; DASH `Role` `main`).
    pub default: bool,
    /// May be chosen without an explicit user choice (HLS `AUTOSELECT=YES`; DASH: always).
    pub autoselect: bool,
    /// Text that must be shown even when subtitles are off (HLS `FORCED=YES`; DASH `Role`
    /// `forced-subtitle`).
    pub forced: bool,
    /// HLS `GROUP-ID`; `None` in DASH. Matches [`Variant::audio_group`] / `text_group`.
    pub group: Option<String>,
    /// Codec strings: DASH `@codecs`; HLS has none on `EXT-X-MEDIA`, so the audio codecs of
    /// the first variant that uses the group stand in.
    pub codecs: Vec<String>,
    /// Bits per second when given (DASH).
    pub bandwidth: Option<u64>,
    /// Audio channel count when given (HLS `CHANNELS`, DASH `AudioChannelConfiguration`).
    pub channels: Option<u32>,
    /// Where its segments come from; `None` when the variant's own stream carries it (HLS
    /// `EXT-X-MEDIA` without `URI`).
    pub media: Option<MediaRef>,
}

/// A thumbnail track: each segment is one image holding a grid of `columns` × `rows`
/// thumbnails that share the segment's duration equally, left to right, then top to bottom
/// (DASH-IF IOP, "thumbnail_tile" `EssentialProperty` with value `"CxR"`; 1x1 without one).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTrack {
    /// `Representation@id`.
    pub id: String,
    /// Bits per second (`@bandwidth`).
    pub bandwidth: u64,
    /// Width of a whole image (the grid), pixels.
    pub width: u32,
    /// Height of a whole image, pixels.
    pub height: u32,
    /// Thumbnails per row.
    pub columns: u32,
    /// Rows of thumbnails.
    pub rows: u32,
    /// The MIME type of the images (`image/jpeg`, `image/png`).
    pub mime: String,
    /// The images.
    pub list: SegmentList,
}

/// One thumbnail: a rectangle of an image, shown for a stretch of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    /// Absolute URL of the image that holds it.
    pub url: String,
    /// Byte range within `url` when the image is part of a larger resource.
    pub range: Option<ByteSpan>,
    /// Left edge of the thumbnail in the image, pixels.
    pub x: u32,
    /// Top edge, pixels.
    pub y: u32,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Where on the timeline it starts, microseconds.
    pub start_us: i64,
    /// How long it stands for, microseconds.
    pub duration_us: i64,
}

impl ImageTrack {
    /// The thumbnail for presentation time `t_us`: the image whose segment covers `t_us` (the
    /// last one before it when `t_us` falls in a gap or after the end; the first before the
    /// start), and the tile of that image whose share of the segment's duration covers it.
    /// `None` when the track has no image.
    pub fn thumbnail(&self, t_us: i64) -> Option<Thumbnail> {
        let segs = &self.list.segments;
        let i = segs
            .partition_point(|s| s.start_us <= t_us)
            .saturating_sub(1);
        let seg = segs.get(i)?;
        let tiles = u64::from(self.columns.max(1)) * u64::from(self.rows.max(1));
        let duration = seg.duration_us.max(1);
        // (A segment of no duration, which a broken template gives, is one instant.)
        let last = seg.end_us().saturating_sub(1).max(seg.start_us);
        let into = t_us.clamp(seg.start_us, last).saturating_sub(seg.start_us);
        // i128: `into * tiles` can exceed i64 for absurd durations.
        let tile = ((i128::from(into) * i128::from(tiles)) / i128::from(duration))
            .clamp(0, i128::from(tiles) - 1) as u64;
        let (w, h) = (
            self.width / self.columns.max(1),
            self.height / self.rows.max(1),
        );
        let (col, row) = (
            tile % u64::from(self.columns.max(1)),
            tile / u64::from(self.columns.max(1)),
        );
        let start =
            seg.start_us + ((i128::from(duration) * i128::from(tile)) / i128::from(tiles)) as i64;
        let end = seg.start_us
            + ((i128::from(duration) * i128::from(tile + 1)) / i128::from(tiles)) as i64;
        Some(Thumbnail {
            url: seg.url.clone(),
            range: seg.range,
            x: col as u32 * w,
            y: row as u32 * h,
            width: w,
            height: h,
            start_us: start,
            duration_us: end - start,
        })
    }
}

/// Where a variant's or rendition's segments come from.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaRef {
    /// An HLS media playlist that still has to be fetched and parsed.
    Playlist {
        /// Absolute URL of the media playlist.
        url: String,
    },
    /// The segments themselves.
    Segments(SegmentList),
    /// DASH `SegmentBase`: the segments are listed by a `sidx` box inside the media file. One
    /// part per period, in order: fetch each `index_range`, call
    /// [`crate::stream::sidx::parse`], join the lists with [`SegmentList::append`].
    Indexed(Vec<IndexedMedia>),
}

/// One DASH `SegmentBase` representation in one period, waiting for its `sidx` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedMedia {
    /// Absolute URL of the media file.
    pub url: String,
    /// Where the `sidx` box is (`SegmentBase@indexRange`).
    pub index_range: ByteSpan,
    /// The initialization segment (`Initialization@range`, or the bytes before the index when
    /// the MPD gives no range but the index does not start at 0).
    pub init: Option<InitSegment>,
    /// Index into [`Presentation::periods`].
    pub period: usize,
    /// Start of the period on the presentation timeline.
    pub period_start_us: i64,
    /// End of the period, when known: segments starting at or after it are dropped.
    pub period_end_us: Option<i64>,
    /// `SegmentBase@presentationTimeOffset` converted to microseconds.
    pub presentation_time_offset_us: i64,
    /// Discontinuity sequence of this part (see [`Segment::discontinuity`]).
    pub discontinuity: u64,
    /// The representation is protected (`ContentProtection`).
    pub encrypted: bool,
}

/// A byte range of a resource: `len` bytes from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteSpan {
    /// First byte.
    pub start: u64,
    /// Number of bytes (at least 1 for spans read from a manifest).
    pub len: u64,
}

impl ByteSpan {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }

    /// The span as the host protocol's inclusive range (for an HTTP `Range` header).
    pub fn to_range(&self) -> crate::host::ByteRange {
        crate::host::ByteRange {
            start: self.start,
            end: Some(self.end().saturating_sub(1).max(self.start)),
        }
    }
}

/// An initialization segment (fMP4 `moov`, WebM header) that segments after it need.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InitSegment {
    /// Absolute URL.
    pub url: String,
    /// Byte range within `url`, or the whole resource.
    pub range: Option<ByteSpan>,
    /// How its bytes are encrypted (HLS: an `EXT-X-KEY` before the `EXT-X-MAP`).
    pub encryption: Encryption,
}

/// How the bytes of a segment or initialization segment are encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Encryption {
    /// Not encrypted.
    #[default]
    Clear,
    /// HLS `EXT-X-KEY:METHOD=AES-128` with `KEYFORMAT` absent or `"identity"`: the whole
    /// resource (the byte range, when it has one) is AES-128-CBC with PKCS7 padding (RFC 8216
    /// sections 4.3.2.4 and 5.2). The player fetches the key and decrypts.
    Aes128(AesKey),
    /// Encrypted in a way the player does not decrypt: a DRM system's key format, a per-sample
    /// method (HLS `SAMPLE-AES`, `SAMPLE-AES-CTR`), an unknown method, DASH
    /// `ContentProtection`. Says how, as the manifest put it (for the error message).
    Unsupported(String),
}

/// Where an HLS AES-128 key is and the IV to decrypt with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AesKey {
    /// Absolute URL of the 16-byte key (the tag's `URI`, resolved against the playlist's URL).
    pub url: String,
    /// The initialization vector.
    pub iv: Iv,
}

/// The IV of an HLS AES-128 key (RFC 8216 section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Iv {
    /// The tag's `IV` attribute (a 128-bit hexadecimal number), big-endian.
    Explicit([u8; 16]),
    /// No `IV` attribute: each segment's media sequence number, as a 128-bit big-endian
    /// integer, is its IV.
    MediaSequence,
}

impl Iv {
    /// The 16 IV bytes for the segment numbered `number` (its media sequence number).
    pub fn bytes(self, number: u64) -> [u8; 16] {
        match self {
            Iv::Explicit(iv) => iv,
            Iv::MediaSequence => u128::from(number).to_be_bytes(),
        }
    }
}

impl Encryption {
    /// Anything but [`Encryption::Clear`].
    pub fn is_encrypted(&self) -> bool {
        !matches!(self, Encryption::Clear)
    }

    /// A DASH representation's segments: [`Encryption::Unsupported`] when it is `protected`
    /// (`ContentProtection`), else clear.
    pub(crate) fn dash(protected: bool) -> Encryption {
        if protected {
            Encryption::Unsupported("DASH ContentProtection".into())
        } else {
            Encryption::Clear
        }
    }
}

/// HLS `EXT-X-PLAYLIST-TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaylistType {
    /// `VOD`: the list never changes (DASH `static`).
    Vod,
    /// `EVENT`: segments are only ever appended.
    Event,
    /// No type: a live sliding window, or a plain list (DASH `dynamic`).
    Unspecified,
}

/// One media segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// HLS media sequence number; DASH `$Number$` (`SegmentBase`: position from 1). Unique
    /// within one period of a list; DASH periods may restart it.
    pub number: u64,
    /// Start on the presentation timeline.
    pub start_us: i64,
    /// Duration as the manifest says (`EXTINF`, DASH timeline / template duration).
    pub duration_us: i64,
    /// Absolute URL.
    pub url: String,
    /// Byte range within `url`, or the whole resource.
    pub range: Option<ByteSpan>,
    /// Index into [`SegmentList::inits`] of the initialization segment it needs.
    pub init: Option<usize>,
    /// Discontinuity sequence: when it changes from one segment to the next, timestamps and
    /// decoder configuration may reset (HLS `EXT-X-DISCONTINUITY`; DASH period boundaries).
    pub discontinuity: u64,
    /// Index into [`Presentation::periods`] (always 0 for HLS).
    pub period: usize,
    /// How the segment is encrypted (HLS `EXT-X-KEY`; DASH `ContentProtection`). The player
    /// decrypts [`Encryption::Aes128`] and refuses [`Encryption::Unsupported`] with an
    /// `unsupported` error.
    pub encryption: Encryption,
    /// HLS `EXT-X-GAP`: the segment is missing; do not fetch it.
    pub gap: bool,
    /// Wall-clock time of the segment's first sample (HLS `EXT-X-PROGRAM-DATE-TIME`, carried
    /// forward over following segments until a discontinuity).
    pub program_date_time_ms: Option<i64>,
}

impl Segment {
    /// One past the segment's end on the presentation timeline.
    pub fn end_us(&self) -> i64 {
        self.start_us.saturating_add(self.duration_us)
    }

    /// The segment is encrypted, in whatever way ([`Segment::encryption`]).
    pub fn encrypted(&self) -> bool {
        self.encryption.is_encrypted()
    }
}

/// The segments of one variant or rendition, with the list-level facts a scheduler needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentList {
    /// In presentation order, start times non-decreasing.
    pub segments: Vec<Segment>,
    /// Initialization segments, referenced by [`Segment::init`].
    pub inits: Vec<InitSegment>,
    /// Upper bound of a segment's duration (HLS `EXT-X-TARGETDURATION`; DASH
    /// `maxSegmentDuration` or the longest segment).
    pub target_duration_us: i64,
    /// Number of the first segment the list declares (HLS `EXT-X-MEDIA-SEQUENCE`; DASH the
    /// first listed segment's number).
    pub media_sequence: u64,
    /// Discontinuity sequence of the first segment (HLS `EXT-X-DISCONTINUITY-SEQUENCE`).
    pub discontinuity_sequence: u64,
    /// No more segments will be added (HLS `EXT-X-ENDLIST`; DASH `static`).
    pub end_list: bool,
    /// HLS `EXT-X-PLAYLIST-TYPE` (DASH: `Vod` when static).
    pub playlist_type: PlaylistType,
    /// HLS `EXT-X-SERVER-CONTROL:HOLD-BACK` when given.
    pub hold_back_us: Option<i64>,
    /// HLS `EXT-X-I-FRAMES-ONLY`: every segment is one key frame (trick play).
    pub i_frames_only: bool,
}

impl SegmentList {
    /// An empty list with the given target duration.
    pub fn empty(target_duration_us: i64) -> Self {
        SegmentList {
            segments: Vec::new(),
            inits: Vec::new(),
            target_duration_us,
            media_sequence: 0,
            discontinuity_sequence: 0,
            end_list: false,
            playlist_type: PlaylistType::Unspecified,
            hold_back_us: None,
            i_frames_only: false,
        }
    }

    /// Sum of the segment durations.
    pub fn duration_us(&self) -> i64 {
        self.segments
            .iter()
            .fold(0i64, |acc, s| acc.saturating_add(s.duration_us))
    }

    /// Start of the first segment: where a DVR window begins.
    pub fn window_start_us(&self) -> Option<i64> {
        self.segments.first().map(|s| s.start_us)
    }

    /// End of the last segment: the live edge.
    pub fn live_edge_us(&self) -> Option<i64> {
        self.segments.last().map(Segment::end_us)
    }

    /// Where live playback should start, `hold_back_us` behind the edge: the index of the last
    /// segment that starts at or before `live_edge − hold_back` (the first segment when the
    /// window is shorter than that). RFC 8216 section 6.3.3.
    pub fn live_start_index(&self, hold_back_us: i64) -> Option<usize> {
        let edge = self.live_edge_us()?;
        let target = edge.saturating_sub(hold_back_us);
        let after = self.segments.partition_point(|s| s.start_us <= target);
        Some(after.saturating_sub(1))
    }

    /// Index of the segment holding `time_us` (the last one starting at or before it), or
    /// `None` when the list is empty or `time_us` is before its first segment.
    pub fn segment_at(&self, time_us: i64) -> Option<usize> {
        let after = self.segments.partition_point(|s| s.start_us <= time_us);
        after.checked_sub(1)
    }

    /// The initialization segment `segment` needs, if any.
    pub fn init_of(&self, segment: &Segment) -> Option<&InitSegment> {
        segment.init.and_then(|i| self.inits.get(i))
    }

    /// Folds a reloaded live playlist (`newer`) into this one and returns the list to use from
    /// now on: `newer`'s segments, with start times shifted so that a segment with the same
    /// number starts where it started in `self` (segments after it follow on). When the two do
    /// not overlap and `newer` continues after `self`, the missing segments are assumed to be
    /// one target duration each. Segments an `EXT-X-SKIP` delta update left out are taken
    /// from `self`. Segments that fell out of the server's window are dropped (the caller
    /// keeps its position by segment number or time).
    pub fn merge(&self, newer: SegmentList) -> Result<SegmentList, Error> {
        let SegmentList {
            segments: new_segments,
            inits: new_inits,
            ..
        } = newer;
        let mut out = SegmentList {
            segments: Vec::new(),
            inits: Vec::new(),
            ..newer
        };
        // Segments an EXT-X-SKIP left out: numbers from newer.media_sequence to its first one.
        if let Some(first) = new_segments.first().map(|s| s.number) {
            let mut table = InitTable::default();
            for s in &self.segments {
                if s.number >= out.media_sequence && s.number < first {
                    let mut s = s.clone();
                    s.init = self.init_of(&s).map(|i| table.intern(&mut out.inits, i));
                    out.segments.push(s);
                }
            }
        }
        let anchor = new_segments.iter().find_map(|n| {
            self.segments
                .iter()
                .find(|o| o.number == n.number)
                .map(|o| o.start_us.saturating_sub(n.start_us))
        });
        let shift = match (anchor, new_segments.first(), out.segments.last()) {
            (Some(shift), _, _) => shift,
            (None, Some(first), Some(skipped)) => skipped.end_us().saturating_sub(first.start_us),
            (None, Some(first), None) => match self.segments.last() {
                Some(last) if first.number > last.number => {
                    let missing = i64::try_from(first.number - last.number - 1).unwrap_or(i64::MAX);
                    last.end_us()
                        .saturating_add(missing.saturating_mul(self.target_duration_us))
                        .saturating_sub(first.start_us)
                }
                _ => 0,
            },
            (None, None, _) => 0,
        };
        if out.segments.len().saturating_add(new_segments.len()) > MAX_SEGMENTS {
            return Err(too_many_segments());
        }
        let mut table = InitTable::new(&out.inits);
        for mut s in new_segments {
            s.start_us = s.start_us.saturating_add(shift);
            s.init = s
                .init
                .and_then(|i| new_inits.get(i))
                .map(|i| table.intern(&mut out.inits, i));
            out.segments.push(s);
        }
        Ok(out)
    }

    /// Appends `next`'s segments (a later period, another `sidx` part) after this list's,
    /// keeping their start times; initialization segments are shared where equal.
    /// `end_list` and `playlist_type` become `next`'s, `target_duration_us` the larger.
    pub fn append(&mut self, next: SegmentList) -> Result<(), Error> {
        if self.segments.len().saturating_add(next.segments.len()) > MAX_SEGMENTS {
            return Err(too_many_segments());
        }
        if self.segments.is_empty() {
            self.media_sequence = next.media_sequence;
            self.discontinuity_sequence = next.discontinuity_sequence;
        }
        let mut table = InitTable::new(&self.inits);
        for mut s in next.segments {
            s.init = s
                .init
                .and_then(|i| next.inits.get(i))
                .map(|i| table.intern(&mut self.inits, i));
            self.segments.push(s);
        }
        self.target_duration_us = self.target_duration_us.max(next.target_duration_us);
        self.end_list = next.end_list;
        self.playlist_type = next.playlist_type;
        Ok(())
    }
}

/// Deduplicates initialization segments while a list is built: equal inits share one index.
#[derive(Default)]
pub(crate) struct InitTable {
    index: HashMap<InitSegment, usize>,
}

impl InitTable {
    /// A table that knows the inits already in `inits`.
    pub(crate) fn new(inits: &[InitSegment]) -> Self {
        let mut index = HashMap::new();
        for (i, init) in inits.iter().enumerate() {
            index.entry(init.clone()).or_insert(i);
        }
        InitTable { index }
    }

    /// The index of `init` in `inits`, pushing it there when new.
    pub(crate) fn intern(&mut self, inits: &mut Vec<InitSegment>, init: &InitSegment) -> usize {
        if let Some(&i) = self.index.get(init) {
            return i;
        }
        inits.push(init.clone());
        self.index.insert(init.clone(), inits.len() - 1);
        inits.len() - 1
    }
}

/// Live timing of a presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveInfo {
    /// How far behind the live edge playback should start and stay: HLS `HOLD-BACK` or three
    /// target durations (RFC 8216 6.3.3); DASH `suggestedPresentationDelay` or three maximum
    /// segment durations.
    pub hold_back_us: i64,
    /// How often to re-fetch the manifest: HLS the target duration (see
    /// [`crate::stream::hls::reload_interval`] for the exact rule); DASH
    /// `minimumUpdatePeriod` (`None`: the MPD does not change, but its segment list still
    /// grows with the clock: parse it again with a later `now_ms`).
    pub refresh_us: Option<i64>,
    /// The DASH timing attributes, for DASH presentations.
    pub dash: Option<DashLive>,
}

/// The timing attributes of a dynamic DASH MPD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashLive {
    /// `MPD@availabilityStartTime`: wall-clock time of presentation time 0.
    pub availability_start_time_ms: i64,
    /// `MPD@publishTime` when given.
    pub publish_time_ms: Option<i64>,
    /// `MPD@minimumUpdatePeriod` when given.
    pub minimum_update_period_us: Option<i64>,
    /// `MPD@timeShiftBufferDepth` when given (absent: the whole presentation stays available).
    pub time_shift_buffer_depth_us: Option<i64>,
    /// `MPD@suggestedPresentationDelay` when given.
    pub suggested_presentation_delay_us: Option<i64>,
    /// `MPD@minBufferTime` when given.
    pub min_buffer_time_us: Option<i64>,
    /// The wall-clock time the segment lists were computed for (the `now_ms` passed in).
    pub now_ms: i64,
    /// Presentation time of `now_ms`: where segments stop being available.
    pub live_edge_us: i64,
    /// `MPD/Location`: where to re-fetch the MPD from, when given.
    pub location: Option<String>,
    /// `MPD/UTCTiming` elements, to synchronise the clock that `now_ms` comes from.
    pub utc_timing: Vec<UtcTiming>,
}

/// A DASH `UTCTiming` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtcTiming {
    /// `@schemeIdUri`, e.g. `urn:mpeg:dash:utc:http-iso:2014`.
    pub scheme: String,
    /// `@value`, e.g. a time server URL.
    pub value: String,
}

/// A manifest feature that was recognised and left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ignored {
    /// HLS `EXT-X-I-FRAME-STREAM-INF` (trick-play playlist).
    IFrameStream {
        /// Absolute URL of the I-frame playlist.
        url: String,
        /// Its `BANDWIDTH`.
        bandwidth: u64,
    },
    /// HLS `EXT-X-MEDIA TYPE=CLOSED-CAPTIONS` (608/708 captions inside the video stream).
    ClosedCaptions {
        /// `GROUP-ID`.
        group: String,
        /// `NAME`.
        name: String,
    },
    /// HLS `EXT-X-MEDIA TYPE=VIDEO` (alternate camera angles).
    VideoRendition {
        /// `GROUP-ID`.
        group: String,
        /// `NAME`.
        name: String,
    },
    /// HLS `EXT-X-SESSION-KEY`: the media playlists are probably encrypted.
    SessionKey,
    /// A DASH AdaptationSet of a content type the model does not carry (e.g. `image`).
    AdaptationSet {
        /// Index into [`Presentation::periods`].
        period: usize,
        /// Its content type or MIME type.
        content_type: String,
    },
    /// A DASH Representation of a later period that matched no variant or rendition of the
    /// first period it was seen in (its AdaptationSet has more Representations).
    UnmatchedRepresentation {
        /// Index into [`Presentation::periods`].
        period: usize,
        /// `Representation@id`.
        id: String,
    },
    /// A live DASH window longer than [`MAX_SEGMENTS`]: only the newest segments are listed.
    WindowClamped {
        /// How many older segments were left out.
        dropped: u64,
    },
}

/// `true` for codec strings of audio formats (RFC 6381 sample entries and common names).
pub(crate) fn is_audio_codec(codec: &str) -> bool {
    let fourcc = codec.split('.').next().unwrap_or_default();
    matches!(
        fourcc.to_ascii_lowercase().as_str(),
        "mp4a"
            | "ac-3"
            | "ec-3"
            | "ac-4"
            | "opus"
            | "flac"
            | "alac"
            | "mp3"
            | "vorbis"
            | "dtsc"
            | "dtse"
            | "dtsh"
            | "dtsl"
            | "dtsx"
            | "mha1"
            | "mhm1"
            | "ipcm"
            | "fpcm"
    )
}

/// `true` for codec strings of timed text (WebVTT or TTML in fMP4).
pub(crate) fn is_text_codec(codec: &str) -> bool {
    let fourcc = codec.split('.').next().unwrap_or_default();
    matches!(fourcc, "wvtt" | "stpp" | "tx3g" | "c608" | "c708")
}

pub(crate) fn too_many_segments() -> Error {
    Error::new(
        ErrorKind::Limit,
        format!("more than {MAX_SEGMENTS} segments in one list"),
    )
}

/// Converts microseconds to a `Duration` (negative values become zero).
pub(crate) fn us_to_duration(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}
