//! Quality levels and audio renditions: the lists the app sees, the manual choice and height
//! cap, the audio track and the rendition that goes with a level (HLS AUDIO groups, DASH
//! audio bitrates following the video level).

use super::*;

impl AdaptiveSource {
    /// The quality levels, lowest first.
    pub fn qualities(&self) -> Vec<TrackChoice> {
        choices(&self.levels)
    }

    /// The alternate audio tracks (empty when the levels carry audio).
    pub fn audio_tracks(&self) -> Vec<TrackChoice> {
        let user: Vec<&Media> = self
            .audio_user
            .iter()
            .filter_map(|&i| self.audio.get(i))
            .collect();
        choices(user)
    }

    /// The audio track in use (an index of [`audio_tracks`](Self::audio_tracks)).
    pub fn audio_track(&self) -> Option<usize> {
        let sel = self.audio_sel?;
        self.audio_user.iter().position(|&u| u == sel).or_else(|| {
            let r = self.audio.get(sel)?;
            self.audio_user
                .iter()
                .position(|&u| self.audio.get(u).is_some_and(|m| same_track(m, r)))
        })
    }

    /// The level of the main segment playing at `us`: parsed, in flight, else the level the
    /// next main segment will have (a manual choice first).
    pub(super) fn main_level_at(&self, us: i64) -> Option<usize> {
        let n = self.demux.number_at(Slot::Main, us);
        n.and_then(|n| {
            self.demux.level_of(Slot::Main, n).or_else(|| {
                self.requests.values().find_map(|r| match r.purpose {
                    Purpose::Media {
                        slot: Slot::Main,
                        number,
                        level,
                    } if number == n => Some(level),
                    _ => None,
                })
            })
        })
        .or(self.abr.manual())
        .or(self.current)
    }

    /// The rendition (of `audio`) to play instead of `rendition` with `level`'s `AUDIO`
    /// group: the same track in it (by name and language, then language), else `rendition`
    /// itself.
    pub(super) fn rendition_in_group(&self, rendition: usize, level: Option<usize>) -> usize {
        let Some(r) = self.audio.get(rendition) else {
            return rendition;
        };
        let Some(group) = level
            .and_then(|l| self.levels.get(l))
            .and_then(|l| l.group.as_ref())
        else {
            return rendition;
        };
        if r.group.as_ref() == Some(group) {
            return rendition;
        }
        let in_group = |m: &&Media| m.group.as_ref() == Some(group);
        let by = |f: &dyn Fn(&Media) -> bool| {
            self.audio
                .iter()
                .enumerate()
                .filter(|(_, m)| in_group(m))
                .find(|(_, m)| f(m))
                .map(|(i, _)| i)
        };
        by(&|m| m.name == r.name && m.language == r.language)
            .or_else(|| by(&|m| m.language.is_some() && m.language == r.language))
            .unwrap_or(rendition)
    }

    /// The rendition of `rendition`'s track to play with `level`: the same track in the
    /// level's `AUDIO` group (HLS), then, when the track has several bitrates (DASH), the
    /// one at the level's place in the ladder (lowest level → lowest bitrate, highest →
    /// highest, proportionally between; with a single level, no bitrate change).
    pub(super) fn rendition_for(&self, rendition: usize, level: Option<usize>) -> usize {
        let pick = self.rendition_in_group(rendition, level);
        let (Some(r), Some(level)) = (self.audio.get(pick), level) else {
            return pick;
        };
        let mut same: Vec<usize> = (0..self.audio.len())
            .filter(|&i| {
                self.audio
                    .get(i)
                    .is_some_and(|m| m.track == r.track && m.group == r.group)
            })
            .collect();
        // One video level: nothing to follow, the track's shown bitrate (nearest 128 kbit/s).
        if same.len() < 2 || self.levels.len() < 2 {
            return pick;
        }
        same.sort_by_key(|&i| self.audio.get(i).map_or(0, |m| m.bandwidth));
        let top = self.levels.len().saturating_sub(1).max(1);
        let k = (level.min(top) * (same.len() - 1) + top / 2) / top;
        same.get(k).copied().unwrap_or(pick)
    }

    /// A manual quality (`Some`) or automatic selection (`None`). A manual choice takes effect
    /// within a segment or two: main segments buffered beyond the next one are dropped and
    /// fetched again at the chosen quality (and HLS alternate audio from another `AUDIO`
    /// group than the level's, from its group).
    pub fn select_quality(&mut self, level: Option<usize>) {
        let level = level.filter(|&l| l < self.levels.len());
        self.abr.set_manual(level);
        let Some(level) = level else { return };
        let Some(here) = self.demux.number_at(Slot::Main, self.playhead_us) else {
            return;
        };
        for n in self.demux.parsed_numbers(Slot::Main) {
            if n > here + 1 && self.demux.level_of(Slot::Main, n) != Some(level) {
                self.demux.evict(&mut self.store, Slot::Main, n);
            }
        }
        // Alternate audio buffered ahead in another rendition than the chosen level plays
        // with (another HLS `AUDIO` group, another bitrate of the track) goes too.
        if let Some(here) = self.demux.number_at(Slot::Audio, self.playhead_us) {
            for n in self.demux.parsed_numbers(Slot::Audio) {
                let other = self
                    .demux
                    .level_of(Slot::Audio, n)
                    .is_some_and(|r| self.rendition_for(r, Some(level)) != r);
                if n > here + 1 && other {
                    self.demux.evict(&mut self.store, Slot::Audio, n);
                }
            }
        }
    }

    /// The quality chosen by hand, if any.
    pub fn manual_quality(&self) -> Option<usize> {
        self.abr.manual()
    }

    /// Caps automatic choices by the display's height in pixels.
    pub fn set_max_height(&mut self, height: Option<u32>) {
        self.abr.set_max_height(height);
    }

    /// Switches the audio track. Returns true when it changed: the player then repositions
    /// audio at the playhead (the audio slot's segments are dropped here).
    pub fn select_audio(
        &mut self,
        index: usize,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> bool {
        let Some(&user) = self.audio_user.get(index) else {
            return false;
        };
        let rendition = self.rendition_for(user, self.abr.manual().or(self.current));
        if self.audio_sel == Some(rendition) {
            return false;
        }
        self.audio_sel = Some(rendition);
        self.cancel_where(
            |p| {
                matches!(
                    p,
                    Purpose::Media {
                        slot: Slot::Audio,
                        ..
                    } | Purpose::Playlist {
                        slot: Slot::Audio,
                        ..
                    }
                )
            },
            net,
            out,
        );
        for n in self.demux.parsed_numbers(Slot::Audio) {
            self.demux.evict(&mut self.store, Slot::Audio, n);
        }
        self.demux.reset_slot_config(Slot::Audio);
        self.sync_grid(Slot::Audio);
        true
    }
}

/// The same track in two audio groups or bitrates: one track key, or the same name and
/// language.
pub(super) fn same_track(a: &Media, b: &Media) -> bool {
    a.track == b.track || (a.name == b.name && a.language == b.language)
}

pub(super) fn choices<'a>(media: impl IntoIterator<Item = &'a Media>) -> Vec<TrackChoice> {
    media
        .into_iter()
        .enumerate()
        .map(|(index, m)| TrackChoice {
            index,
            id: m.id.clone(),
            bandwidth: m.bandwidth,
            height: m.height,
            language: m.language.clone(),
            name: m.name.clone(),
        })
        .collect()
}
