//! The audio pipeline of a session: where its audio comes from ([`Audio`]: decoded by the
//! core, by the host's platform decoder, or silence for a file without audio) and the way to
//! the device ([`AudioPipeline`]): decode → pad to the end of the video → remix to the device's
//! channels → resample (source rate × playback rate → device rate). The player decides *when*
//! to pump (the clock's lead, seeks, the device) and queues what comes out; this module does
//! the sample work, beside the video pipeline (`crate::video`).

use super::decoder::{AudioSource, Stall, Step};
use super::mix::{remix, Layout};
use super::platform::{PlatformAudio, Silence};
use super::resample::RateConverter;
use crate::error::{Error, ErrorKind};

/// Where a session's audio comes from.
// One per session, so its size does not matter; without symphonia the `Core` variant is empty
// and the others differ in size.
#[cfg_attr(not(feature = "symphonia"), allow(clippy::large_enum_variant))]
pub(crate) enum Audio {
    /// Decoded in the core (symphonia).
    Core(AudioSource),
    /// Decoded by the host's platform decoder.
    Platform(PlatformAudio),
    /// A file without audio: silence drives the clock.
    Silence(Silence),
}

impl Audio {
    /// See the sources' methods of the same name.
    pub(crate) fn rate(&self) -> u32 {
        match self {
            Audio::Core(a) => a.rate(),
            Audio::Platform(a) => a.rate(),
            Audio::Silence(a) => a.rate(),
        }
    }

    /// See the sources' methods of the same name.
    pub(crate) fn channels(&self) -> usize {
        match self {
            Audio::Core(a) => a.channels(),
            Audio::Platform(a) => a.channels(),
            Audio::Silence(_) => 2,
        }
    }

    /// The speaker positions of [`Audio::channels`] (what the mix to the device follows).
    pub(crate) fn layout(&self) -> Layout {
        match self {
            Audio::Core(a) => a.layout(),
            Audio::Platform(a) => a.layout(),
            Audio::Silence(_) => Layout::of_count(2),
        }
    }

    /// See the sources' methods of the same name.
    pub(crate) fn position(&self) -> i64 {
        match self {
            Audio::Core(a) => a.position(),
            Audio::Platform(a) => a.position(),
            Audio::Silence(a) => a.position(),
        }
    }

    /// See the sources' methods of the same name.
    pub(crate) fn is_broken(&self) -> bool {
        matches!(self, Audio::Core(a) if a.is_broken())
    }

    /// See the sources' methods of the same name.
    pub(crate) fn decode(&mut self, out: &mut Vec<f32>) -> Result<Step, Stall> {
        match self {
            Audio::Core(a) => a.decode(out),
            Audio::Platform(a) => a.decode(out).map_err(Stall::Fatal),
            Audio::Silence(a) => Ok(a.decode(out)),
        }
    }

    /// See the sources' methods of the same name.
    pub(crate) fn seek(&mut self, frame: i64) -> Result<(), Stall> {
        match self {
            Audio::Core(a) => a.seek(frame),
            Audio::Platform(a) => {
                a.seek(frame);
                Ok(())
            }
            Audio::Silence(a) => {
                a.seek(frame);
                Ok(())
            }
        }
    }
}

/// What one [`AudioPipeline::pump`] produced.
#[derive(Debug, PartialEq)]
pub(crate) enum Pumped {
    /// The source waits for data: nothing this time.
    Waiting,
    /// Samples for the device (interleaved at its rate and channels; may be empty), and the
    /// source frame reached (padding included).
    Pcm {
        /// The samples.
        samples: Vec<f32>,
        /// Source frames decoded so far, padding included.
        last_frame: i64,
    },
}

/// Decoded audio on its way to the device.
#[derive(Default)]
pub(crate) struct AudioPipeline {
    converter: Option<RateConverter>,
    decoded: Vec<f32>,
    mixed: Vec<f32>,
    converted: Vec<f32>,
    eos: bool,
    /// Frames of silence appended after the audio ended, to reach the end of the video.
    padded: i64,
}

impl AudioPipeline {
    /// The source ended and its last samples went out.
    pub(crate) fn eos(&self) -> bool {
        self.eos
    }

    /// Starts over (a seek, a new track, a rate change): no end of stream, no padding, and the
    /// resampler is rebuilt for the current device and playback rate at the next pump.
    pub(crate) fn reset(&mut self) {
        self.eos = false;
        self.padded = 0;
        self.converter = None;
    }

    /// The device or the source's format changed: the resampler is rebuilt at the next pump.
    pub(crate) fn new_format(&mut self) {
        self.converter = None;
    }

    /// Decodes one step of `src` and brings it to the device's `(rate, channels)` at playback
    /// `rate`. When the audio ends before the video (`video_end_us`, a shorter track or a
    /// skipped last segment), silence carries the clock to the end of the video.
    pub(crate) fn pump(
        &mut self,
        src: &mut Audio,
        (dev_rate, dev_channels): (u32, usize),
        rate: f64,
        video_end_us: Option<i64>,
    ) -> Result<Pumped, Stall> {
        if self.converter.is_none() {
            let ratio = f64::from(dev_rate) / (f64::from(src.rate()) * rate);
            self.converter = Some(RateConverter::new(dev_channels, ratio).map_err(|e| {
                Stall::Fatal(Error::new(
                    ErrorKind::Unsupported,
                    format!("resampler: {e}"),
                ))
            })?);
        }
        self.decoded.clear();
        let mut step = match src.decode(&mut self.decoded)? {
            Step::Waiting => return Ok(Pumped::Waiting),
            step => step,
        };
        let channels = src.channels();
        if step == Step::End {
            let rate = i64::from(src.rate());
            let video_end = video_end_us.map_or(0, |us| us * rate / 1_000_000);
            let at = src.position() + self.padded;
            if at + rate / 50 < video_end {
                let n = (video_end - at).min(4096);
                self.decoded.clear();
                self.decoded.resize(n as usize * channels, 0.0);
                self.padded += n;
                step = Step::Frames(n as usize);
            }
        }
        let last_frame = src.position() + self.padded;
        self.mixed.clear();
        remix(&self.decoded, src.layout(), dev_channels, &mut self.mixed);
        self.converted.clear();
        if let Some(c) = self.converter.as_mut() {
            c.process(&self.mixed, &mut self.converted);
            if step == Step::End {
                c.flush(&mut self.converted);
                self.eos = true;
            }
        }
        Ok(Pumped::Pcm {
            samples: std::mem::take(&mut self.converted),
            last_frame,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pumps `src` to the end: (device frames out, last source frame, pumps).
    fn drain(
        p: &mut AudioPipeline,
        src: &mut Audio,
        device: (u32, usize),
        rate: f64,
        video_end_us: Option<i64>,
    ) -> (usize, i64, usize) {
        let (mut frames, mut last, mut pumps) = (0, 0, 0);
        while !p.eos() {
            pumps += 1;
            assert!(pumps < 10_000, "no end of stream");
            match p.pump(src, device, rate, video_end_us) {
                Ok(Pumped::Pcm {
                    samples,
                    last_frame,
                }) => {
                    assert_eq!(samples.len() % device.1, 0);
                    frames += samples.len() / device.1;
                    last = last_frame;
                }
                other => panic!("{other:?}"),
            }
        }
        (frames, last, pumps)
    }

    #[test]
    fn a_second_of_audio_is_a_second_at_the_device_rate_and_half_at_double_speed() {
        for (device, rate, want) in [
            ((48_000, 2), 1.0, 48_000),
            ((48_000, 1), 1.0, 48_000),
            ((44_100, 2), 1.0, 44_100),
            ((48_000, 2), 2.0, 24_000),
        ] {
            let mut p = AudioPipeline::default();
            let mut src = Audio::Silence(Silence::new(48_000, Some(1.0)));
            let (frames, last, _) = drain(&mut p, &mut src, device, rate, None);
            assert_eq!(last, 48_000, "{device:?} at {rate}");
            let off = frames.abs_diff(want);
            assert!(
                off <= 2,
                "{device:?} at {rate}: {frames} frames, want {want}"
            );
        }
    }

    #[test]
    fn audio_that_ends_before_the_video_is_padded_with_silence_to_its_end() {
        let mut p = AudioPipeline::default();
        let mut src = Audio::Silence(Silence::new(48_000, Some(0.5)));
        let (frames, last, _) = drain(&mut p, &mut src, (48_000, 2), 1.0, Some(2_000_000));
        // Padded to within 20 ms (rate / 50) of the video's end.
        assert!((96_000 - 960..=96_000).contains(&last), "last frame {last}");
        assert!(frames.abs_diff(last as usize) <= 2, "{frames} vs {last}");
        // Without video the audio's own end is the end.
        let mut p = AudioPipeline::default();
        let mut src = Audio::Silence(Silence::new(48_000, Some(0.5)));
        let (_, last, _) = drain(&mut p, &mut src, (48_000, 2), 1.0, None);
        assert_eq!(last, 24_000);
    }

    #[test]
    fn reset_starts_over_after_the_end() {
        let mut p = AudioPipeline::default();
        let mut src = Audio::Silence(Silence::new(48_000, Some(0.1)));
        drain(&mut p, &mut src, (48_000, 2), 1.0, Some(1_000_000));
        assert!(p.eos());
        p.reset();
        assert!(!p.eos());
        if let Audio::Silence(s) = &mut src {
            s.seek(0);
        }
        let (_, last, _) = drain(&mut p, &mut src, (48_000, 2), 1.0, None);
        assert_eq!(last, 4_800, "no padding left over from before the reset");
    }
}
