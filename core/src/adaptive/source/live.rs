//! The manifest updater: DASH MPD refreshes, playlists loaded and reloaded (live), new lists
//! put on the timeline (anchored on the main slot, aligned by program date-time or sequence)
//! and the slots told when a list changed.

use super::*;

impl AdaptiveSource {
    pub(super) fn refresh_dash(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let period = self
            .presentation
            .live_info
            .as_ref()
            .and_then(|l| l.refresh_us)
            .map_or(Duration::from_secs(2), |us| {
                Duration::from_micros(us.clamp(500_000, 60_000_000) as u64)
            });
        match self.next_manifest {
            None => self.next_manifest = Some(now + period),
            Some(at) if at <= now && !self.busy(|p| *p == Purpose::Manifest) => {
                self.next_manifest = Some(now + period);
                let refetch = self
                    .presentation
                    .live_info
                    .as_ref()
                    .is_some_and(|l| l.refresh_us.is_some());
                if refetch {
                    let url = self.manifest_url.clone();
                    self.send(now, net, Purpose::Manifest, url, None, 0, out);
                } else {
                    let bytes = std::mem::take(&mut self.manifest);
                    let r = self.apply_dash(&bytes, now);
                    self.manifest = bytes;
                    r?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A refreshed MPD: take the new segment lists of the media in use.
    pub(super) fn apply_dash(&mut self, bytes: &[u8], now: Duration) -> Result<(), Error> {
        let p = dash::parse(bytes, &self.manifest_url, self.wall_ms(now))?;
        let lists = |ms: &[crate::stream::model::Variant]| -> Vec<(String, SegmentList)> {
            ms.iter()
                .filter_map(|v| match &v.media {
                    MediaRef::Segments(l) => Some((v.id.clone(), l.clone())),
                    _ => None,
                })
                .collect()
        };
        let fresh = lists(&p.variants);
        let fresh_audio: Vec<(String, SegmentList)> = p
            .audio
            .iter()
            .filter_map(|r| match &r.media {
                Some(MediaRef::Segments(l)) => Some((r.id.clone(), l.clone())),
                _ => None,
            })
            .collect();
        for m in self.levels.iter_mut().chain(self.audio.iter_mut()) {
            if let Some((_, l)) = fresh.iter().chain(&fresh_audio).find(|(id, _)| *id == m.id) {
                m.list = Some(l.clone());
            }
        }
        self.live = p.live;
        self.presentation.live_info = p.live_info.clone();
        if p.text != self.presentation.text {
            self.presentation.text = p.text.clone();
            self.text_version += 1;
        }
        self.manifest = bytes.to_vec();
        for slot in Slot::ALL {
            self.sync_grid(slot);
        }
        Ok(())
    }

    /// Makes sure the media in use for `slot` has its segment list (fetching the playlist or
    /// the sidx), and reloads live playlists when due.
    pub(super) fn ensure_list(
        &mut self,
        now: Duration,
        slot: Slot,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let index = match slot {
            Slot::Main => self.current,
            Slot::Audio => self.audio_sel,
        };
        let Some(index) = index else { return };
        let Some(m) = (match slot {
            Slot::Main => self.levels.get(index),
            Slot::Audio => self.audio.get(index),
        }) else {
            return;
        };
        let busy = self.busy(|p| {
            matches!(p, Purpose::Playlist { slot: s, index: i } | Purpose::Index { slot: s, index: i, .. } if *s == slot && *i == index)
        });
        if busy {
            return;
        }
        let reload_due = m.next_reload.is_some_and(|d| d <= now);
        match (&m.source, m.list.is_some()) {
            // First load, or a live reload that is due.
            (MediaRef::Playlist { url }, loaded) if !loaded || reload_due => {
                let url = url.clone();
                self.send(
                    now,
                    net,
                    Purpose::Playlist { slot, index },
                    url,
                    None,
                    0,
                    out,
                );
            }
            (MediaRef::Indexed(parts), false) => {
                let part = parts.len().saturating_sub(m.parts_left);
                if let Some(p) = parts.get(part) {
                    let (url, range) = (p.url.clone(), Some(p.index_range.to_range()));
                    self.send(
                        now,
                        net,
                        Purpose::Index { slot, index, part },
                        url,
                        range,
                        0,
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_playlist(
        &mut self,
        now: Duration,
        slot: Slot,
        index: usize,
        body: &[u8],
    ) -> Result<(), Error> {
        let url = {
            let m = match slot {
                Slot::Main => self.levels.get(index),
                Slot::Audio => self.audio.get(index),
            };
            match m.map(|m| &m.source) {
                Some(MediaRef::Playlist { url }) => url.clone(),
                _ => return Ok(()),
            }
        };
        let list = match hls::parse_with_imports(body, &url, self.presentation.variables.as_ref())?
        {
            hls::Parsed::Media(l) => l,
            hls::Parsed::Multivariant(_) => {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!("{url}: a multivariant playlist where a media playlist was expected"),
                ))
            }
        };
        let Some(m) = self.media_mut(slot, index) else {
            return Ok(());
        };
        let prev = m.list.take();
        let merged = match &prev {
            Some(old) => old.merge(list)?,
            None if !list.end_list && self.anchor_on_main(slot, &list) => list,
            None if !list.end_list => self.align_live(slot, index, list)?,
            None => list,
        };
        let Some(m) = self.media_mut(slot, index) else {
            return Ok(());
        };
        m.next_reload = hls::reload_interval(prev.as_ref(), &merged).map(|d| now + d);
        let (end_list, hold_back) = (merged.end_list, hls::hold_back_us(&merged));
        m.list = Some(merged);
        if !end_list {
            self.live = true;
            self.hold_back_us = hold_back;
        } else if slot == Slot::Main && self.current == Some(index) {
            // VOD, or a live stream that ended (EXT-X-ENDLIST appeared).
            self.live = false;
        }
        self.list_changed(slot, index);
        Ok(())
    }

    /// The first video list of a live stream keeps its own times when only alternate audio
    /// lists came in before it (nothing is fetched until it is in): the audio lists move onto
    /// it instead. Placed on the audio's timeline, the presentation began where the audio
    /// window did, and the video window (and `seekable`, and a seek to the window start) could
    /// start at −2 s. Returns whether `list` is such a list.
    pub(super) fn anchor_on_main(&mut self, slot: Slot, list: &SegmentList) -> bool {
        if slot != Slot::Main || self.started || self.levels.iter().any(|m| m.list.is_some()) {
            return false;
        }
        let Some(shift) = self
            .audio
            .iter()
            .find_map(|m| m.list.as_ref().and_then(|a| pdt_shift(a, list)))
        else {
            return false;
        };
        for m in &mut self.audio {
            for seg in m.list.iter_mut().flat_map(|l| l.segments.iter_mut()) {
                seg.start_us = seg.start_us.saturating_sub(shift);
            }
        }
        if self.audio_sel.is_some() {
            self.sync_grid(Slot::Audio);
        }
        true
    }

    /// The first list of a live level or rendition, put on the timeline of the lists already
    /// loaded (each live playlist counts its times from its own first segment): by
    /// `EXT-X-PROGRAM-DATE-TIME` when both lists have it, else (same slot) by media sequence
    /// number, as [`SegmentList::merge`] does for a reload. Without this, a quality switch
    /// on a live stream jumps by the difference of the two windows.
    pub(super) fn align_live(
        &self,
        slot: Slot,
        index: usize,
        mut list: SegmentList,
    ) -> Result<SegmentList, Error> {
        let (same, other) = match slot {
            Slot::Main => (&self.levels, &self.audio),
            Slot::Audio => (&self.audio, &self.levels),
        };
        let loaded = |ms: &[Media]| -> Option<SegmentList> {
            ms.iter()
                .enumerate()
                .filter(|&(i, _)| ms.as_ptr() != same.as_ptr() || i != index)
                .find_map(|(_, m)| m.list.clone())
        };
        let near = loaded(same);
        let far = loaded(other);
        for reference in [&near, &far].into_iter().flatten() {
            if let Some(shift) = pdt_shift(reference, &list) {
                for seg in &mut list.segments {
                    seg.start_us = seg.start_us.saturating_add(shift);
                }
                return Ok(list);
            }
        }
        match near {
            Some(reference) => reference.merge(list),
            None => Ok(list),
        }
    }

    /// The list of `index` in `slot` changed: rebuild the grid if that media is in use.
    pub(super) fn list_changed(&mut self, slot: Slot, index: usize) {
        let in_use = match slot {
            Slot::Main => self.current == Some(index),
            Slot::Audio => self.audio_sel == Some(index),
        };
        if in_use {
            self.sync_grid(slot);
        }
    }

    /// Level or audio rendition `index` of `slot`.
    pub(super) fn media_mut(&mut self, slot: Slot, index: usize) -> Option<&mut Media> {
        match slot {
            Slot::Main => self.levels.get_mut(index),
            Slot::Audio => self.audio.get_mut(index),
        }
    }
}

/// How far to move `list`'s times so that its wall-clock times (`EXT-X-PROGRAM-DATE-TIME`)
/// fall where `reference` has them; `None` when either list has none.
pub(super) fn pdt_shift(reference: &SegmentList, list: &SegmentList) -> Option<i64> {
    let n = list
        .segments
        .iter()
        .find(|s| s.program_date_time_ms.is_some())?;
    let n_ms = n.program_date_time_ms?;
    // The reference segment closest to it in wall-clock time.
    let r = reference
        .segments
        .iter()
        .filter_map(|s| s.program_date_time_ms.map(|ms| (s, ms)))
        .min_by_key(|&(_, ms)| (ms - n_ms).unsigned_abs())?;
    let at =
        r.0.start_us
            .saturating_add((n_ms - r.1).saturating_mul(1000));
    Some(at.saturating_sub(n.start_us))
}
