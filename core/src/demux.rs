//! Container demuxing for video files: MP4 (progressive and fragmented), WebM/Matroska and
//! MPEG-TS (HLS segments, and whole files: [`ts::TsFile`]).
//!
//! Why our own parsers rather than a crate: symphonia 0.6's MP4 reader ignores `ctts` and edit
//! lists (wrong presentation times for B-frames), `mp4parse` needs a `Read` of the whole `moov`
//! and has no fragment (`moof`/`trun`) tables, and `matroska-demuxer` pulls through `Read + Seek`
//! and cannot resume after a read of bytes the loader has not fetched yet. The core is sans-IO:
//! every parse here runs over a [`ByteSource`] that may answer "not yet" ([`DemuxError::NeedBytes`]),
//! and every operation can simply be called again once those bytes arrive. The box / element
//! walkers are small; all sizes are bounded before anything is allocated.
//!
//! Times are microseconds (what WebCodecs uses), already shifted by the edit list (MP4) or
//! codec delay rules of the container, so the first presented frame of a well-formed file is at 0.

pub mod codec;
pub mod es;
pub mod flac;
pub(crate) mod frames;
pub mod mp4;
pub mod mpa;
pub mod ogg;
pub mod ts;
pub mod wav;
pub mod webm;

use crate::error::{Error, ErrorKind};

/// Random access to the bytes of one resource, as far as they are fetched.
#[allow(clippy::len_without_is_empty)] // a resource of unknown length is not "empty"
pub trait ByteSource {
    /// Fills `buf` from `offset`. Returns how many bytes were copied: fewer than `buf.len()`
    /// only at the end of the resource. `Err(DemuxError::NeedBytes(at))` when byte `at` is not
    /// fetched yet.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError>;
    /// Total size of the resource, when known.
    fn len(&self) -> Option<u64>;
}

impl ByteSource for crate::source::cache::ByteCache {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        self.copy_at(offset, buf).map_err(DemuxError::NeedBytes)
    }
    fn len(&self) -> Option<u64> {
        self.total()
    }
}

/// Reads of a [`ByteCache`](crate::source::cache::ByteCache) that leave it as it is (its read
/// position, which the loader and the eviction follow, does not move): for work beside
/// playback, such as counting an MP3's frames.
pub struct Peek<'a>(pub &'a crate::source::cache::ByteCache);

impl ByteSource for Peek<'_> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        self.0.peek_at(offset, buf).map_err(DemuxError::NeedBytes)
    }
    fn len(&self) -> Option<u64> {
        self.0.total()
    }
}

/// A whole resource in memory (tests, fuzzing, small files).
impl ByteSource for &[u8] {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
    fn len(&self) -> Option<u64> {
        Some(<[u8]>::len(self) as u64)
    }
}

/// Why a demux operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemuxError {
    /// The byte at this offset is not fetched yet: fetch from there and call again (nothing was
    /// consumed).
    NeedBytes(u64),
    /// The data is malformed.
    Invalid(String),
    /// Valid, but uses something this build does not handle (codec, feature).
    Unsupported(String),
}

impl From<DemuxError> for Error {
    fn from(e: DemuxError) -> Error {
        match e {
            DemuxError::NeedBytes(at) => Error::new(
                ErrorKind::Decode,
                format!("unexpected end of data at byte {at}"),
            ),
            DemuxError::Invalid(m) => Error::new(ErrorKind::Decode, m),
            DemuxError::Unsupported(m) => Error::new(ErrorKind::Unsupported, m),
        }
    }
}

/// Video or audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    /// A video track.
    Video,
    /// An audio track.
    Audio,
}

/// One elementary stream of a container, ready to configure a platform decoder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackInfo {
    /// Container track id (MP4 `track_ID`, Matroska `TrackNumber`).
    pub id: u64,
    /// Video or audio; `None` for tracks the demuxer skips (text, data).
    pub kind: Option<TrackKind>,
    /// WebCodecs codec string (`avc1.64001f`, `hvc1.1.6.L93.B0`, `vp8`, `vp09.00.10.08`,
    /// `av01.0.04M.08`, `mp4a.40.2`, `opus`, `vorbis`, `flac`), or the container's own id
    /// prefixed with `?` when the codec is not recognised (e.g. `?V_MPEGH/ISO/HEVC`).
    pub codec: String,
    /// Decoder description for WebCodecs `description`: the body of avcC / hvcC / av1C,
    /// the OpusHead / Vorbis headers / AudioSpecificConfig; `None` when the codec needs none.
    pub description: Option<Vec<u8>>,
    /// Coded width in pixels (video).
    pub width: u32,
    /// Coded height in pixels (video).
    pub height: u32,
    /// Display width (after pixel aspect ratio and, for MP4, after the track's rotation:
    /// a 640×360 picture rotated by 90° is displayed 360×640); equals `width` for square,
    /// unrotated pixels.
    pub display_width: u32,
    /// Display height (after pixel aspect ratio and rotation).
    pub display_height: u32,
    /// Clockwise rotation to display the decoded picture with, in degrees: 0, 90, 180 or 270
    /// (MP4 `tkhd` matrix; what ffmpeg's legacy `rotate` tag and `<video>` apply). Applied
    /// after [`TrackInfo::flip`]. Carried to hosts in the decoder configuration, which they
    /// draw the pictures with (see `video::config_of`).
    pub rotation_degrees: u16,
    /// Mirror the decoded picture left to right before rotating (a matrix with a negative
    /// determinant; a vertical flip is this plus 180°).
    pub flip: bool,
    /// Samples per second (audio).
    pub sample_rate: u32,
    /// Channels (audio).
    pub channels: u16,
    /// Duration of the track in microseconds, when the container says.
    pub duration_us: Option<i64>,
    /// Samples the decoder outputs that precede time 0 and must be dropped (Opus pre-skip,
    /// AAC priming when signalled), in microseconds.
    pub codec_delay_us: i64,
}

impl TrackInfo {
    /// The display size before [`TrackInfo::rotation_degrees`] is applied: what the decoded
    /// picture's aspect asks for (the decoder configuration's display size; hosts rotate it).
    pub fn unrotated_display_size(&self) -> (u32, u32) {
        if self.rotation_degrees % 180 == 90 {
            (self.display_height, self.display_width)
        } else {
            (self.display_width, self.display_height)
        }
    }
}

/// One compressed frame, in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Presentation time in microseconds (after edit lists; may be negative for frames the
    /// edit list hides).
    pub pts_us: i64,
    /// Decode time in microseconds.
    pub dts_us: i64,
    /// Duration in microseconds (0 when unknown).
    pub duration_us: i64,
    /// Byte offset of the sample data in the resource; for demuxers that assemble samples
    /// (MPEG-TS files), the sample's address among what they demuxed. Read the bytes with
    /// [`Demux::read_sample`].
    pub offset: u64,
    /// Size of the sample data in bytes.
    pub size: u32,
    /// A sync sample (keyframe): decoding can start here.
    pub key: bool,
}

/// A read position within one track, in decode order. `Cursor::default()` is the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Cursor {
    /// Which segment (fragment / cluster; 0 for a progressive MP4).
    pub segment: usize,
    /// Which sample of that track within the segment.
    pub index: usize,
}

/// What every container demuxer offers the player.
pub trait Demux {
    /// Short container name (`isomp4`, `webm`, `matroska`).
    fn container(&self) -> &'static str;
    /// All tracks, in container order.
    fn tracks(&self) -> &[TrackInfo];
    /// Duration in seconds, when the container says.
    fn duration(&self) -> Option<f64>;
    /// True for fragmented files (MP4 `moof`s), whose samples are found as reading proceeds.
    fn fragmented(&self) -> bool {
        false
    }
    /// The sample of track `track` (index into [`Demux::tracks`]) at `cursor`, advancing the
    /// cursor; `Ok(None)` at the end of the track. On `Err` the cursor is unchanged, so the call
    /// can be repeated once the missing bytes are fetched.
    fn next_sample(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError>;
    /// The decoder configuration of `track` from segment `segment` on, when it can change
    /// within the stream (adaptive streams switching quality); `None` when it never does.
    fn sample_config(&self, _track: usize, _segment: usize) -> Option<&TrackInfo> {
        None
    }
    /// A cursor at the last keyframe of `track` whose presentation time is at or before
    /// `time_us` (the first keyframe when none is). Decoding from it reaches `time_us`.
    fn seek(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError>;
    /// Copies the bytes of `sample` (one [`Demux::next_sample`] gave) into `buf`, which is
    /// `sample.size` long. Returns how many bytes were copied: fewer only when the resource
    /// ends first. By default the bytes at [`Sample::offset`] of `src`; a demuxer whose
    /// samples are not contiguous in the resource (MPEG-TS spreads them over packets)
    /// assembles them.
    fn read_sample(
        &mut self,
        src: &mut dyn ByteSource,
        sample: &Sample,
        buf: &mut [u8],
    ) -> Result<usize, DemuxError> {
        src.read_at(sample.offset, buf)
    }
}

/// Most bytes any single header structure (moov, moof, a Matroska master element read whole)
/// may claim before it is rejected as [`ErrorKind::Limit`]-sized garbage.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;
/// Most samples one track may index.
pub const MAX_SAMPLES: usize = 4_000_000;

/// Which container the first bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// ISO BMFF (`ftyp`, `moov`, `styp`, ... box at offset 0).
    Mp4,
    /// EBML (WebM / Matroska).
    Matroska,
    /// MPEG transport stream: 188-byte packets, 192-byte M2TS packets (a 4-byte timestamp
    /// first) or 204-byte packets (16 bytes of FEC after).
    Ts,
    /// An Ogg page opening an Opus stream (Ogg Vorbis and FLAC are [`Sniffed::Other`]:
    /// symphonia decodes them).
    OggOpus,
    /// Something else (left to the audio-only path).
    Other,
}

/// Bytes [`sniff`] wants to see (fewer only when the resource is shorter).
pub const SNIFF_BYTES: usize = 512;

/// Looks at the first bytes of a resource (up to [`SNIFF_BYTES`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.len() >= 4 && head[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return Sniffed::Matroska;
    }
    // The sync byte at the start of two packets, and of a third when there is one.
    let ts = [(0, 188), (4, 192), (0, 204)]
        .iter()
        .any(|&(lead, stride)| {
            let sync = |k: usize| head.get(lead + k * stride).map(|&b| b == 0x47);
            sync(0) == Some(true) && sync(1) == Some(true) && sync(2) != Some(false)
        });
    if ts {
        return Sniffed::Ts;
    }
    if ogg::is_ogg_opus(head) {
        return Sniffed::OggOpus;
    }
    if head.len() >= 8 {
        let t = &head[4..8];
        if matches!(
            t,
            b"ftyp" | b"moov" | b"styp" | b"moof" | b"free" | b"skip" | b"wide" | b"mdat"
        ) {
            return Sniffed::Mp4;
        }
    }
    Sniffed::Other
}

/// Opens a demuxer for the resource, sniffing the container. Call again after `NeedBytes`.
pub fn open(src: &mut dyn ByteSource) -> Result<Box<dyn Demux + Send>, DemuxError> {
    let mut head = [0u8; SNIFF_BYTES];
    let n = src.read_at(0, &mut head)?;
    match sniff(&head[..n]) {
        Sniffed::Mp4 => Ok(Box::new(mp4::Mp4Demuxer::open(src)?)),
        Sniffed::Matroska => Ok(Box::new(webm::WebmDemuxer::open(src)?)),
        Sniffed::Ts => Ok(Box::new(ts::TsFile::open(src)?)),
        Sniffed::OggOpus => Ok(Box::new(ogg::OggOpus::open(src)?)),
        Sniffed::Other => Err(DemuxError::Unsupported(
            "not an MP4, Matroska, MPEG-TS or Ogg Opus file".into(),
        )),
    }
}

/// Opens an audio file the sniffing of [`open`] leaves to symphonia ([`Sniffed::Other`]), for
/// the host's decoder or the core's PCM conversion: WAV ([`wav::WavFile`]), FLAC
/// ([`flac::FlacFile`]), else an elementary stream (MP3, ADTS, AC-3: [`es::EsFile`]). Call
/// again after `NeedBytes`.
pub fn open_audio_file(src: &mut dyn ByteSource) -> Result<Box<dyn Demux + Send>, DemuxError> {
    let mut head = [0u8; 12];
    let n = src.read_at(0, &mut head)?;
    if wav::is_wav(&head[..n]) {
        return Ok(Box::new(wav::WavFile::open(src)?));
    }
    match flac::FlacFile::open(src) {
        Err(DemuxError::Unsupported(_)) => {}
        other => return Ok(Box::new(other?)),
    }
    Ok(Box::new(es::EsFile::open(src)?))
}

/// Converts `ticks` at `timescale` per second to microseconds, rounding to nearest.
pub fn ticks_to_us(ticks: i64, timescale: u32) -> i64 {
    if timescale == 0 {
        return 0;
    }
    let t = ticks as i128 * 1_000_000;
    let s = timescale as i128;
    let r = if t >= 0 {
        (t + s / 2) / s
    } else {
        (t - s / 2) / s
    };
    r.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}
