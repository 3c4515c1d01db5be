//! The scheduler: per slot, which segment of which level to fetch next (ABR choice, failover
//! penalties, buffer goals), eviction behind the playhead, request timeouts and the emergency
//! switch down when a segment will not arrive in time.

use super::*;

impl AdaptiveSource {
    /// Media buffered contiguously ahead of the playhead in `slot`, seconds.
    pub fn buffered_secs(&self, slot: Slot) -> f64 {
        let Some(mut n) = self.demux.number_at(slot, self.playhead_us) else {
            return 0.0;
        };
        let mut end = None;
        while self.demux.has(slot, n) {
            end = self
                .demux
                .entry(slot, n)
                .map(|e| e.start_us + e.duration_us);
            n += 1;
        }
        end.map_or(0.0, |e| ((e - self.playhead_us) as f64 / 1e6).max(0.0))
    }

    /// The media in use for `slot`: its index (into the levels or the audio renditions) and
    /// itself.
    pub(super) fn slot_media(&self, slot: Slot) -> Option<(usize, &Media)> {
        match slot {
            Slot::Main => {
                let l = self.current?;
                Some((l, self.levels.get(l)?))
            }
            Slot::Audio => {
                let a = self.audio_sel?;
                Some((a, self.audio.get(a)?))
            }
        }
    }

    /// Rebuilds `slot`'s grid from the list of the media in use.
    pub(super) fn sync_grid(&mut self, slot: Slot) {
        let Some((_, m)) = self.slot_media(slot) else {
            return;
        };
        let Some(list) = m.list.as_ref() else {
            return;
        };
        let first = list
            .segments
            .first()
            .map_or(list.media_sequence, |s| s.number);
        let grid: Vec<GridEntry> = list
            .segments
            .iter()
            .map(|s| GridEntry {
                start_us: s.start_us,
                duration_us: s.duration_us,
                discontinuity: s.discontinuity,
            })
            .collect();
        // Numbers must be consecutive for the grid; a list with holes keeps its order.
        let complete = list.end_list;
        self.demux.set_grid(slot, first, grid, complete);
    }

    /// Drops segments behind the playhead beyond the back budget, and the oldest ones while
    /// over the byte budget.
    pub(super) fn evict(&mut self) {
        let back = self.playhead_us - (self.config.back_secs * 1e6) as i64;
        for slot in Slot::ALL {
            for n in self.demux.parsed_numbers(slot) {
                let end = self
                    .demux
                    .entry(slot, n)
                    .map_or(i64::MIN, |e| e.start_us + e.duration_us);
                if end < back {
                    self.demux.evict(&mut self.store, slot, n);
                }
            }
        }
        // Over the byte budget: behind the playhead first, then the far end of the buffer.
        while self.store.bytes() > self.config.buffer_bytes {
            let mut victim = None;
            for slot in Slot::ALL {
                let here = self.demux.number_at(slot, self.playhead_us);
                for n in self.demux.parsed_numbers(slot) {
                    if here.is_some_and(|h| n < h) {
                        victim = Some((slot, n));
                        break;
                    }
                }
            }
            if victim.is_none() {
                victim = Slot::ALL
                    .into_iter()
                    .filter_map(|s| self.demux.parsed_numbers(s).last().map(|&n| (s, n)))
                    .filter(|&(s, n)| self.demux.number_at(s, self.playhead_us) != Some(n))
                    .max_by_key(|&(_, n)| n);
            }
            match victim {
                Some((s, n)) => self.demux.evict(&mut self.store, s, n),
                None => break,
            }
        }
    }

    /// Fetches the next segment `slot` needs, if budgets allow and nothing is under way.
    pub(super) fn fetch_next(
        &mut self,
        now: Duration,
        slot: Slot,
        load: &LoadControl,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        if self.slot_media(slot).is_none_or(|(_, m)| m.list.is_none()) {
            return Ok(());
        }
        if self.demux.range(slot).1 == self.demux.range(slot).0 {
            self.sync_grid(slot);
        }
        if !self.started {
            if self.live && slot != Slot::Main {
                // Live: where playback starts is the main track's decision (hold-back behind
                // its edge). A second track (alternate audio) whose list arrives first waits
                // for it, or it would fetch the window start and pin the start there.
                return Ok(());
            }
            if self.live {
                let start = (self.start_position() * 1e6) as i64;
                self.playhead_us = start;
                self.live_start_us = Some(start);
            }
            self.started = true;
        }
        let urgent = self.urgent[slot];
        // A request for a segment the player no longer waits for gives way to the urgent one.
        if let Some(u) = urgent {
            if self.demux.has(slot, u) || self.gone.contains_key(&(slot, u)) {
                self.urgent[slot] = None;
            } else {
                self.cancel_where(
                    |p| matches!(*p, Purpose::Media { slot: s, number, .. } if s == slot && number != u),
                    net,
                    out,
                );
            }
        }
        if self.busy(|p| matches!(p, Purpose::Media { slot: s, .. } if *s == slot)) {
            return Ok(());
        }
        let (first, end) = self.demux.range(slot);
        let Some(here) = self.demux.number_at(slot, self.playhead_us) else {
            return Ok(());
        };
        let mut n = urgent.unwrap_or(here).max(first);
        while n < end && (self.demux.has(slot, n) || self.gone.contains_key(&(slot, n))) {
            n += 1;
        }
        if n >= end {
            return Ok(());
        }
        let Some(entry) = self.demux.entry(slot, n) else {
            return Ok(());
        };
        let ahead_s = (entry.start_us - self.playhead_us) as f64 / 1e6;
        if urgent.is_none() && !load.fetch_segment(ahead_s, self.store.bytes()) {
            return Ok(());
        }
        // While the main track downloads a segment, a second track (alternate audio) waits
        // rather than run more than half a segment past that segment's start: on a shared
        // link its extra segments would slow the one playback waits for (startup on a slow
        // link: ~960 → ~700 ms at 1.5 Mbit/s in the sim). Anchored on the segment in flight,
        // not the playhead, so a live start (hold-back behind the edge) is respected. The main
        // track never waits for it. A segment the audio pipeline asks for (it decodes ahead)
        // waits too: playback cannot pass the video segment in flight before it arrives, so
        // only the one under the playhead is urgent (after a 3 s outage on a 0.7 Mbit/s link
        // the next audio segment shared the link with the video segment playback waited for,
        // resuming after 1.81 s instead of 1.5 s in the sim).
        let urgent_now = urgent.is_some_and(|u| {
            self.demux
                .entry(slot, u)
                .is_some_and(|e| e.start_us <= self.playhead_us)
        });
        if slot != Slot::Main && !urgent_now {
            let in_flight = self
                .requests
                .values()
                .filter_map(|r| match r.purpose {
                    Purpose::Media {
                        slot: Slot::Main,
                        number,
                        ..
                    } => self.demux.entry(Slot::Main, number),
                    _ => None,
                })
                .map(|e| e.start_us + e.duration_us / 2)
                .min();
            if in_flight.is_some_and(|limit| entry.start_us > limit) {
                return Ok(());
            }
        }
        let level = match slot {
            Slot::Main => {
                let levels: Vec<Level> = self.levels.iter().map(Media::level).collect();
                let buffer = self.buffered_secs(Slot::Main);
                let mut pick = self.abr.choose(
                    &levels,
                    self.current,
                    buffer,
                    entry.duration_us as f64 / 1e6,
                );
                // A level that failed recently is skipped (failover), unless it is chosen by
                // hand.
                while pick > 0
                    && self.abr.manual().is_none()
                    && self
                        .levels
                        .get(pick)
                        .and_then(|m| m.penalty_until)
                        .is_some_and(|t| t > now)
                {
                    pick -= 1;
                }
                if Some(pick) != self.current {
                    // The new level's list must be loaded before its segments can be fetched.
                    let had = self.current;
                    self.current = Some(pick);
                    if self.levels.get(pick).is_some_and(|m| m.list.is_none()) {
                        self.ensure_list(now, Slot::Main, net, out);
                        return Ok(());
                    }
                    if had.is_some() {
                        self.stats.switches += 1;
                    }
                }
                pick
            }
            Slot::Audio => {
                // HLS: each level plays with its own `AUDIO` group: the same track from the
                // group of the main segment at this time (the demuxer keeps each segment's
                // decoder configuration; the audio pipeline reconfigures at the boundary). Its
                // list is loaded first.
                let sel = self.audio_sel.unwrap_or(0);
                let want = self.rendition_for(sel, self.main_level_at(entry.start_us));
                if want != sel {
                    self.audio_sel = Some(want);
                    if self.audio.get(want).is_some_and(|m| m.list.is_none()) {
                        self.ensure_list(now, Slot::Audio, net, out);
                        return Ok(());
                    }
                }
                want
            }
        };
        self.request_segment(now, slot, n, level, 0, net, out)
    }

    /// The segment of `level`'s list that matches grid entry `n` of `slot`.
    pub(super) fn segment_for(
        &self,
        slot: Slot,
        n: u64,
        level: usize,
    ) -> Option<(Segment, Option<InitSegment>)> {
        let media = match slot {
            Slot::Main => self.levels.get(level)?,
            Slot::Audio => self.audio.get(level)?,
        };
        let list = media.list.as_ref()?;
        let entry = self.demux.entry(slot, n)?;
        let by_number = list
            .segments
            .binary_search_by_key(&n, |s| s.number)
            .ok()
            .and_then(|i| list.segments.get(i))
            .filter(|s| (s.start_us - entry.start_us).abs() < entry.duration_us / 2 + 1);
        let seg = match by_number {
            Some(s) => s,
            None => list
                .segment_at(entry.start_us + entry.duration_us / 2)
                .and_then(|i| list.segments.get(i))?,
        };
        Some((seg.clone(), list.init_of(seg).cloned()))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn request_segment(
        &mut self,
        now: Duration,
        slot: Slot,
        n: u64,
        level: usize,
        attempt: u32,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let Some((seg, init)) = self.segment_for(slot, n, level) else {
            return Ok(());
        };
        for encryption in
            std::iter::once(&seg.encryption).chain(init.as_ref().map(|i| &i.encryption))
        {
            if let Encryption::Unsupported(how) = encryption {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "segment {} is encrypted with {how}: a DRM or per-sample method Kinema \
                         does not decrypt (it decrypts whole-segment AES-128 only)",
                        seg.number
                    ),
                ));
            }
        }
        if seg.gap {
            self.skip(slot, n);
            return Ok(());
        }
        if let Some(init) = init {
            if !self.inits.contains_key(&init) {
                if !self.busy(|p| matches!(p, Purpose::Init { init: i } if *i == init)) {
                    // An encrypted init's key is fetched alongside it.
                    self.want_key(now, &init.encryption, net, out);
                    let (url, range) = (init.url.clone(), init.range.map(|r| r.to_range()));
                    self.send(now, net, Purpose::Init { init }, url, range, 0, out);
                }
                return Ok(());
            }
        }
        // So is an encrypted segment's: it waits for its key if it arrives first.
        self.want_key(now, &seg.encryption, net, out);
        let range = seg.range.map(|r| r.to_range());
        self.send(
            now,
            net,
            Purpose::Media {
                slot,
                number: n,
                level,
            },
            seg.url,
            range,
            attempt,
            out,
        );
        Ok(())
    }

    /// Gives up on segment `n` of `slot`: playback moves past it.
    pub(super) fn skip(&mut self, slot: Slot, n: u64) {
        self.stats.skipped += 1;
        *self.gone.entry((slot, n)).or_insert(0) += 1;
        self.demux.insert_empty(slot, n);
    }

    pub(super) fn check_timeouts(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let late: Vec<RequestId> = self
            .requests
            .keys()
            .copied()
            .filter(|&id| net.timed_out(id, now))
            .collect();
        for id in late {
            net.cancel(id, out);
            self.failed(now, net, id, false, "timed out")?;
        }
        Ok(())
    }

    /// The emergency rule on the main segment under way.
    pub(super) fn check_emergency(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let levels: Vec<Level> = self.levels.iter().map(Media::level).collect();
        let buffer = self.buffered_secs(Slot::Main);
        let found = self.requests.iter().find_map(|(&id, r)| match r.purpose {
            Purpose::Media {
                slot: Slot::Main,
                number,
                level,
            } => Some((
                id,
                number,
                level,
                r.body.len() as u64,
                r.total,
                r.first_byte.unwrap_or(r.started),
            )),
            _ => None,
        });
        let Some((id, number, level, got, total, since)) = found else {
            return;
        };
        let seg_s = self
            .demux
            .entry(Slot::Main, number)
            .map_or(2.0, |e| e.duration_us as f64 / 1e6);
        let elapsed = now.saturating_sub(since).as_secs_f64();
        let download = Download {
            level,
            received: got,
            total,
            elapsed_s: elapsed,
            segment_s: seg_s,
        };
        if let Some(lower) = self.abr.abandon(&levels, &download, buffer) {
            self.abr.on_progress_stall(got, elapsed);
            self.requests.remove(&id);
            net.cancel(id, out);
            self.stats.abandoned += 1;
            self.current = Some(lower);
            if self.levels.get(lower).is_some_and(|m| m.list.is_some()) {
                self.stats.switches += 1;
                let _ = self.request_segment(now, Slot::Main, number, lower, 0, net, out);
            }
        }
    }
}
