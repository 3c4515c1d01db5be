//! The step the player takes after every event: pull the source (progressive loader or
//! adaptive source), pump audio to the device, present video on the clock, lay out subtitles,
//! run the controls, move the playback state, and schedule the next wake-up.

use super::*;

impl Player {
    /// Runs the source: blocked operations, decoding ahead, fetching; then the state machine.
    pub(super) fn advance(&mut self, now: Duration) {
        self.clock.tick(now);
        if let Err(e) = self.run_source(now) {
            self.fail(e);
        }
        if let Some(t) = self.session.as_mut().and_then(|s| s.live_start.take()) {
            // Live: start hold-back behind the edge, not at the window start (or where a
            // suspended session was).
            self.reposition(now, t);
        }
        if let Some(point) = self.restore.take_if(|r| r.opened) {
            self.finish_resume(now, point);
        }
        self.update_state(now);
        self.present_video(now);
        self.run_subtitles(now);
        self.run_controls(now);
        self.schedule(now);
    }

    /// Hides the controls when their time is up and sends their view when it changed.
    pub(super) fn run_controls(&mut self, now: Duration) {
        let playing = self.wants_play && self.suspended.is_none();
        self.controls.tick(now, playing);
        if self.controls.enabled() || self.controls.showing() {
            let choices = self.choices();
            if let Some(view) = self.controls.changed_view(&choices) {
                self.out.push_back(HostCommand::ShowControls(view));
            }
        }
    }

    /// Fetches the selected text track around the playhead and shows the cues active now.
    pub(super) fn run_subtitles(&mut self, now: Duration) {
        let playing = self.state == PlaybackState::Playing && self.seeking.is_none();
        let t = if playing {
            self.clock_position(now)
        } else {
            self.seeking.unwrap_or(self.position)
        };
        let t_us = (t * 1e6).round() as i64;
        let media = self.session.as_ref().map(|s| &*s.media);
        let version = media.and_then(|m| m.text_version());
        if let (Some(m), Some(v)) = (media, version) {
            if v != self.subs.lists_version() {
                // A live MPD refresh moved the text tracks' segment windows.
                if let Some((renditions, _, _)) = m.text_renditions() {
                    self.subs.refresh_lists(v, &renditions);
                }
            }
        }
        let offset = |d: u64| media.and_then(|m| m.timestamp_offset(d));
        if self.session.is_some() {
            self.subs
                .poll(now, t_us, &offset, &mut self.net, &mut self.scratch);
        }
        self.subs.update(t_us, &mut self.scratch);
        self.out.extend(self.scratch.drain(..));
    }

    /// Presents the picture for the current position and releases what the clock passed.
    pub(super) fn present_video(&mut self, now: Duration) {
        let playing = self.state == PlaybackState::Playing && self.seeking.is_none();
        let t = if playing {
            self.clock_position(now)
        } else {
            self.position
        };
        let ended = self.state == PlaybackState::Ended;
        let Some(v) = self.session.as_mut().and_then(|s| s.video.as_mut()) else {
            return;
        };
        // At the end, show the last picture whatever the clock says. While playing, the
        // picture is picked for when the host will have drawn it.
        let lead = if playing {
            (self.present_lead_us as f64 * self.rate).round() as i64
        } else {
            0
        };
        let clock_us = if ended {
            i64::MAX
        } else {
            (t * 1e6).round() as i64 + lead
        };
        v.present(clock_us, self.rate, &mut self.scratch);
        self.out.extend(self.scratch.drain(..));
    }

    pub(super) fn run_source(&mut self, now: Duration) -> Result<(), Error> {
        // Read before the session is taken out (it asks the session).
        let playhead = self.clock_position(now);
        // The session is taken out while it runs, so the steps can be methods of the player.
        let Some(mut s) = self.session.take() else {
            return Ok(());
        };
        let r = self.run_session(now, playhead, &mut s);
        self.session = Some(s);
        r
    }

    /// Opens, positions and decodes the session's audio, feeds the video, and lets the source
    /// fetch what the pipelines wait for.
    fn run_session(&mut self, now: Duration, playhead: f64, s: &mut Session) -> Result<(), Error> {
        let format = self.device_format();
        let load = self.config.load_control();
        let wall = self.wall;
        let stream_config = self.config.stream.clone();
        if s.audio_switch {
            rebuild_switched_audio(s, &mut self.audio_generation, playhead);
        }
        if s.pending != Pending::Open {
            if let Some(v) = s.video.as_mut() {
                v.set_decoder_depth(self.video_depth);
            }
            let need = feed_pipes(s, &mut self.scratch)?;
            s.feed_need = need;
            self.out.extend(self.scratch.drain(..));
            // A fragmented file whose header has no duration: known once the feeders have
            // walked every fragment (before its end is played), announced then.
            if let Some(info) = self.info.as_mut().filter(|i| i.duration.is_none()) {
                if let Some(d) = s.media.late_duration() {
                    info.duration = Some(d);
                    self.out
                        .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(d)));
                }
            }
            // An estimated duration made exact (an MP3 without a frame count, counted).
            if let Some(d) = s.media.refine_duration() {
                if let Some(info) = self.info.as_mut().filter(|i| i.duration != Some(d)) {
                    info.duration = Some(d);
                    self.out
                        .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(d)));
                }
            }
        }
        let mut steps = 0;
        while steps < MAX_STEPS {
            steps += 1;
            if let Some(at) = s.need {
                if !s.media.bytes_ready(at) {
                    break;
                }
                s.need = None;
            }
            let result = match s.pending {
                Pending::Open => {
                    let ctx = OpenContext {
                        now,
                        wall,
                        stream: &stream_config,
                        video_generation: self.video_generation,
                        audio_generation: self.audio_generation,
                    };
                    let opened = open_source(s, ctx, &mut self.net, &mut self.scratch);
                    self.out.extend(self.scratch.drain(..));
                    match opened {
                        Ok(None) => break,
                        Ok(Some(info)) => {
                            self.on_opened(s, info);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                Pending::Reopen(frame) | Pending::Seek(frame) => {
                    let reopen = matches!(s.pending, Pending::Reopen(_))
                        || s.source.as_ref().is_none_or(|src| src.is_broken());
                    let opened = if reopen {
                        s.media
                            .open_core_audio()
                            .map(|src| s.source = Some(Audio::Core(src)))
                    } else {
                        Ok(())
                    };
                    match (opened, s.source.as_mut()) {
                        // symphonia's MP4 reader can fail seeking backwards across fragments
                        // ("no atom pending read"): a fresh reader seeks from the start.
                        (Ok(()), Some(src)) => match src.seek(frame) {
                            Err(Stall::Fatal(_)) if !reopen && matches!(src, Audio::Core(_)) => {
                                s.pending = Pending::Reopen(frame);
                                Ok(())
                            }
                            r => r.map(|()| {
                                s.pending = Pending::None;
                                s.last_frame = frame;
                            }),
                        },
                        (Err(e), _) => Err(e),
                        (Ok(()), None) => Ok(()),
                    }
                }
                Pending::None => {
                    let Some((dev_rate, dev_channels)) = format else {
                        break;
                    };
                    let Some(src) = s.source.as_mut() else { break };
                    if s.out.eos() || !load.decode_more(self.clock.ahead_secs()) {
                        break;
                    }
                    // Where the video ends, for padding audio that ends first.
                    let duration_us = self
                        .info
                        .as_ref()
                        .and_then(|i| i.duration)
                        .map(|d| (d * 1e6) as i64);
                    let video_end_us = s
                        .video
                        .as_ref()
                        .filter(|v| !v.done())
                        .and_then(|v| v.end_us().or(duration_us));
                    match s
                        .out
                        .pump(src, (dev_rate, dev_channels), self.rate, video_end_us)
                    {
                        Ok(Pumped::Waiting) => break,
                        Ok(Pumped::Pcm {
                            samples,
                            last_frame,
                        }) => {
                            s.last_frame = last_frame;
                            let frames = samples.len() / dev_channels;
                            if frames > 0 {
                                self.clock.queued(frames as u64);
                                self.out.push_back(HostCommand::QueueAudio {
                                    epoch: self.clock.epoch(),
                                    samples,
                                });
                            }
                            if s.out.eos() && self.seeking.is_none() {
                                if let Some(info) = self.info.as_mut() {
                                    if info.duration.is_none() {
                                        let d =
                                            s.last_frame.max(0) as f64 / info.sample_rate as f64;
                                        info.duration = Some(d);
                                        self.out.push_back(HostCommand::Emit(
                                            PlayerEvent::DurationChanged(d),
                                        ));
                                    }
                                }
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match result {
                Ok(()) => {}
                Err(Stall::NeedBytes(at)) => {
                    s.need = Some(at);
                    if let (Pending::None, Some(src)) = (s.pending, s.source.as_ref()) {
                        if src.is_broken() {
                            s.pending = Pending::Reopen(src.position());
                        }
                    }
                }
                Err(Stall::Fatal(e)) => return Err(e),
            }
        }
        // Until the pipelines open and the player moves to the start the source picked (a
        // live stream: hold-back behind the edge), the player's position (0) would pull the
        // source to the window start.
        let positioned = s.pending != Pending::Open && s.live_start.is_none();
        let wants = Wants {
            blocked: s.need,
            feed: s.feed_need,
            playhead_us: positioned.then(|| (playhead * 1e6).round() as i64),
        };
        s.media
            .poll(now, &load, wants, &mut self.net, &mut self.scratch)?;
        self.out.extend(self.scratch.drain(..));
        Ok(())
    }

    /// The source opened: position a live start (or a resume), announce the metadata, add
    /// the manifest's text tracks, and leave `Loading`.
    fn on_opened(&mut self, s: &mut Session, info: MediaInfo) {
        s.pending = Pending::None;
        s.live_start = s.media.live_start();
        if let Some(r) = self.restore.as_mut() {
            r.opened = true;
            // Back where it was: inside the DVR window when live.
            let window = s.media.is_live().then(|| s.media.live_window()).flatten();
            match window {
                Some((lo, hi)) if (lo..=hi).contains(&r.position) => {
                    s.live_start = Some(r.position);
                }
                Some(_) => {}
                None if r.position > 0.0 => {
                    s.live_start = Some(r.position);
                }
                None => {}
            }
        }
        self.info = Some(info.clone());
        self.out
            .push_back(HostCommand::Emit(PlayerEvent::LoadedMetadata(info.clone())));
        if let Some(d) = info.duration {
            self.out
                .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(d)));
        }
        if info.video_codec.is_some() {
            self.out.push_back(HostCommand::Emit(PlayerEvent::Resize {
                width: info.width,
                height: info.height,
            }));
            self.subs.set_picture(info.width, info.height);
        }
        if let Some((renditions, periods, dash)) = s.media.text_renditions() {
            self.subs
                .set_hls_variables(s.media.hls_variables().cloned());
            self.subs.add_renditions(
                &renditions,
                &periods,
                dash,
                &mut self.net,
                &mut self.scratch,
            );
            self.out.extend(self.scratch.drain(..));
        }
        if s.media.timeline_only() {
            self.open_timeline(s);
        }
        if self.state == PlaybackState::Loading {
            self.state = PlaybackState::Paused;
            self.out
                .push_back(HostCommand::Emit(PlayerEvent::StateChanged(self.state)));
        }
    }

    /// A presentation of only text or thumbnails: its text is the content, so a track shows
    /// unless the app chose; with no text it can show, the timeline plays blank and says so
    /// (a warning, never a silent blank).
    fn open_timeline(&mut self, s: &mut Session) {
        self.subs
            .select_default_or_first(&mut self.net, &mut self.scratch);
        self.out.extend(self.scratch.drain(..));
        if !self.subs.tracks().is_empty() {
            return;
        }
        let text = s
            .media
            .text_renditions()
            .is_some_and(|(r, _, _)| !r.is_empty());
        let message = if text {
            "the presentation has neither audio nor video, and its text is in a format Kinema \
             does not show (TTML): the timeline plays with nothing to show"
        } else {
            "the presentation has only thumbnail images: the timeline plays with nothing to \
             show (thumbnail() gives the image for a time)"
        };
        self.out
            .push_back(HostCommand::Emit(PlayerEvent::Warning(Error::new(
                crate::error::ErrorKind::Unsupported,
                message,
            ))));
    }

    /// Moves between paused, buffering, playing and ended from what the clock and source say.
    pub(super) fn update_state(&mut self, now: Duration) {
        let clock_us = (self.clock_position(now) * 1e6).round() as i64;
        let Some(s) = self.session.as_ref() else {
            return;
        };
        if s.source.is_none() || self.state == PlaybackState::Error {
            return;
        }
        let positioned = s.pending == Pending::None;
        let eos = s.out.eos();
        let ahead = self.clock.ahead_secs();
        let video_ready = s.video.as_ref().is_none_or(|v| v.has_picture());
        let video_done = s
            .video
            .as_ref()
            .is_none_or(|v| v.done() || v.end_us().is_some());
        // Adaptive streams fetch video and audio separately (alternate audio renditions): the
        // video can run dry while audio still plays. Then wait, as for audio, rather than
        // freeze the picture while the clock runs on.
        let video_starved = s.media.tracks_arrive_apart()
            && s.feed_need.is_some()
            && s.video.as_ref().is_some_and(|v| {
                v.next_due().is_none()
                    && v.end_us().is_none()
                    && v.shown()
                        .is_some_and(|(pts, dur)| pts + dur + VIDEO_STARVED_US < clock_us)
            });
        let enough = self.config.load_control().may_start(&Readiness {
            positioned,
            video_ready,
            video_starved,
            at_end: eos,
            queued_secs: ahead,
        });
        if let Some(target) = self.seeking {
            if enough {
                self.seeking = None;
                self.position = target;
                self.emit(PlayerEvent::Seeked(target));
                self.emit(PlayerEvent::TimeUpdate(target));
            }
        }
        let ended =
            eos && self.clock.drained() && positioned && self.seeking.is_none() && video_done;
        if self.wants_play {
            if ended {
                if self.looping {
                    self.reposition(now, 0.0);
                    return;
                }
                self.clock.set_running(now, false);
                self.out.push_back(HostCommand::PauseAudio);
                // Where the media really ended: a truncated file ends before its header's
                // duration, and the duration is corrected to match (as `<video>` does).
                let end = self.clock.position(now);
                self.position = end;
                if let Some(info) = self.info.as_mut() {
                    if info.duration.is_none_or(|d| (d - end).abs() > 0.05) {
                        info.duration = Some(end);
                        self.out
                            .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(end)));
                    }
                }
                self.wants_play = false;
                if let Some(v) = self.session.as_mut().and_then(|s| s.video.as_mut()) {
                    v.end_of_playback();
                }
                self.emit(PlayerEvent::TimeUpdate(self.position));
                self.emit(PlayerEvent::Pause);
                self.set_state(PlaybackState::Ended);
                self.emit(PlayerEvent::Ended);
                return;
            }
            let starved = (self.clock.drained() && !eos) || video_starved;
            match self.state {
                PlaybackState::Playing if starved || self.seeking.is_some() => {
                    self.clock.set_running(now, false);
                    self.out.push_back(HostCommand::PauseAudio);
                    self.set_state(PlaybackState::Buffering);
                    self.emit(PlayerEvent::Waiting);
                }
                PlaybackState::Playing => {}
                _ if enough && self.seeking.is_none() => {
                    self.clock.set_running(now, true);
                    self.out.push_back(HostCommand::StartAudio);
                    self.set_state(PlaybackState::Playing);
                    self.emit(PlayerEvent::Playing);
                }
                PlaybackState::Paused | PlaybackState::Ended => {
                    self.set_state(PlaybackState::Buffering);
                    self.emit(PlayerEvent::Waiting);
                }
                _ => {}
            }
        } else {
            if self.clock.running() {
                self.clock.set_running(now, false);
                self.out.push_back(HostCommand::PauseAudio);
            }
            if matches!(
                self.state,
                PlaybackState::Playing | PlaybackState::Buffering
            ) {
                self.set_state(PlaybackState::Paused);
            }
        }
        if self.state == PlaybackState::Playing {
            self.position = self.clock_position(now);
            let due = self.last_time_update.is_none_or(|t| now >= t + TIME_UPDATE);
            if due {
                self.last_time_update = Some(now);
                self.emit(PlayerEvent::TimeUpdate(self.position));
            }
        }
    }

    /// Asks for the next wake-up: while anything moves, soon; otherwise at the loader's deadline.
    pub(super) fn schedule(&mut self, now: Duration) {
        let active = matches!(
            self.state,
            PlaybackState::Playing | PlaybackState::Buffering
        ) || self.seeking.is_some();
        let mut at = active.then_some(now + REFILL);
        if self.state == PlaybackState::Playing && self.seeking.is_none() {
            let due = self
                .session
                .as_ref()
                .and_then(|s| s.video.as_ref())
                .and_then(|v| v.next_due());
            if let Some(due) = due {
                let ahead = (due as f64 / 1e6 - self.clock.peek(now)) / self.rate.max(0.25)
                    - self.present_lead_us as f64 / 1e6;
                let wake = now + Duration::from_secs_f64(ahead.clamp(0.0, REFILL.as_secs_f64()));
                at = Some(at.map_or(wake, |a| a.min(wake)));
            }
        }
        if let Some(s) = self.session.as_ref() {
            if let Some(d) = s.media.deadline(&self.net) {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if let Some(d) = self.subs.deadline() {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if let Some(d) = self.controls.deadline(self.wants_play) {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if s.need.is_none() && s.pending != Pending::None && s.source.is_some() {
                at = Some(now);
            }
        }
        if let Some(at) = at {
            if self.wake_at != Some(at) {
                self.wake_at = Some(at);
                self.out.push_back(HostCommand::WakeAt { at });
            }
        }
    }
}
