//! Transfers: sending requests through the request service, their bytes and ends, failures
//! handed to the failover decision (`crate::adaptive::failover`) and carried out, and finished
//! playlists, indexes, keys and segments handed on (AES-128 ones decrypted first).

use super::*;

impl AdaptiveSource {
    #[allow(clippy::too_many_arguments)] // private: the parameters are the request's fields
    pub(super) fn send(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        purpose: Purpose,
        url: String,
        range: Option<ByteRange>,
        attempt: u32,
        out: &mut Vec<HostCommand>,
    ) {
        let id = net.fetch(
            now,
            Owner::Adaptive,
            purpose.kind(),
            url.clone(),
            range,
            out,
        );
        self.requests.insert(
            id,
            Request {
                purpose,
                url,
                range,
                attempt,
                started: now,
                first_byte: None,
                status: None,
                total: None,
                body: Vec::new(),
            },
        );
    }

    /// A request for `pred` is under way, waiting to be retried, or done and waiting for its
    /// key.
    pub(super) fn busy(&self, pred: impl Fn(&Purpose) -> bool) -> bool {
        self.requests.values().any(|r| pred(&r.purpose))
            || self.retries.iter().any(|r| pred(&r.purpose))
            || self.parked.iter().any(|p| pred(&p.purpose))
    }

    /// Cancels the requests under way whose purpose matches `pred` (and drops such bodies
    /// waiting for their key).
    pub(super) fn cancel_where(
        &mut self,
        pred: impl Fn(&Purpose) -> bool,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let ids: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| pred(&r.purpose))
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.requests.remove(&id);
            net.cancel(id, out);
        }
        self.parked.retain(|p| !pred(&p.purpose));
    }

    /// Cancels everything (unload).
    pub fn cancel_all(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        for id in std::mem::take(&mut self.requests).into_keys() {
            net.cancel(id, out);
        }
        self.retries.clear();
        self.parked.clear();
    }

    /// The next moment something is due (retry, live reload, timeout).
    pub fn deadline(&self, net: &RequestService) -> Option<Duration> {
        let mut at: Option<Duration> = None;
        let mut take = |d: Duration| at = Some(at.map_or(d, |a| a.min(d)));
        for r in &self.retries {
            take(r.due);
        }
        for m in self.levels.iter().chain(&self.audio) {
            if let Some(d) = m.next_reload {
                take(d);
            }
        }
        if let Some(d) = self.next_manifest {
            take(d);
        }
        for &id in self.requests.keys() {
            if let Some(d) = net.deadline(id) {
                take(d);
            }
        }
        at
    }

    /// Response headers arrived.
    pub fn on_response(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        id: RequestId,
        status: u16,
        content_length: Option<u64>,
    ) -> Result<(), Error> {
        let Some(r) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        r.status = Some(status);
        r.first_byte = Some(now);
        r.total = content_length;
        if (200..300).contains(&status) {
            // The server answers again (after an outage, say): retries waiting out their
            // backoff go now instead of up to `retry_max` later.
            for retry in &mut self.retries {
                retry.due = retry.due.min(now);
            }
        }
        if let Some(len) = content_length {
            if len as usize > crate::adaptive::segments::MAX_SEGMENT_BYTES {
                self.requests.remove(&id);
                net.forget(id);
                return Err(limit(format!(
                    "a response of {len} bytes is over the limit"
                )));
            }
        }
        Ok(())
    }

    /// Body bytes arrived.
    pub fn on_data(
        &mut self,
        net: &mut RequestService,
        id: RequestId,
        data: &[u8],
    ) -> Result<(), Error> {
        let Some(r) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        if r.body.len() + data.len() > crate::adaptive::segments::MAX_SEGMENT_BYTES {
            self.requests.remove(&id);
            net.forget(id);
            return Err(limit("a segment or manifest is over the size limit"));
        }
        r.body.extend_from_slice(data);
        Ok(())
    }

    /// The transfer failed: retry, fail over, skip or give up.
    pub fn on_failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        _kind: FetchErrorKind,
        message: &str,
    ) -> Result<(), Error> {
        self.failed(now, net, id, false, message)
    }

    pub(super) fn failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        gone: bool,
        why: &str,
    ) -> Result<(), Error> {
        let Some(r) = self.requests.remove(&id) else {
            return Ok(());
        };
        // A segment the buffer is about to run out without (or already has) is *starving*:
        // the `Segment` settings then retry every retry_base within the same give-up time
        // (net::policy has the measurements).
        let starving =
            matches!(r.purpose, Purpose::Media { slot, .. } if self.buffered_secs(slot) < 2.0);
        let failure = Failure {
            what: failed(&r.purpose),
            gone,
            attempt: r.attempt,
            retry: net.retry_delay(Owner::Adaptive, r.purpose.kind(), r.attempt, id.0, starving),
            url: &r.url,
            why,
        };
        let action = failover::decide(&failure, &self.penalties(), now);
        self.act(now, action, r)
    }

    /// When each main-slot level may be used again (`None`: now).
    pub(super) fn penalties(&self) -> Vec<Option<Duration>> {
        self.levels.iter().map(|m| m.penalty_until).collect()
    }

    /// Carries out what [`failover`] decided about the failed request `r`.
    pub(super) fn act(
        &mut self,
        now: Duration,
        action: ErrorAction,
        r: Request,
    ) -> Result<(), Error> {
        match action {
            ErrorAction::Retry(delay) => {
                self.retries.push(Retry {
                    due: now + delay,
                    purpose: r.purpose,
                    url: r.url,
                    range: r.range,
                    attempt: r.attempt + 1,
                });
                Ok(())
            }
            ErrorAction::FailOver {
                level,
                penalty,
                to,
                switch,
            } => {
                if let Some(m) = self.levels.get_mut(level) {
                    m.penalty_until = Some(now + penalty);
                }
                if switch == Switch::Always || self.current == Some(level) {
                    self.current = Some(to);
                }
                Ok(())
            }
            ErrorAction::Skip { slot, number } => {
                self.skip(slot, number);
                Ok(())
            }
            ErrorAction::Fatal(e) => Err(e),
        }
    }

    /// The transfer completed.
    pub fn on_end(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
    ) -> Result<(), Error> {
        let Some(status) = self.requests.get(&id).map(|r| r.status.unwrap_or(0)) else {
            return Ok(());
        };
        if status == 404 || status == 410 {
            return self.failed(now, net, id, true, &format!("HTTP {status}"));
        }
        if (400..500).contains(&status) && status != 408 && status != 429 {
            let Some(r) = self.requests.remove(&id) else {
                return Ok(());
            };
            let action =
                failover::refused(failed(&r.purpose), status, &r.url, &self.penalties(), now);
            return self.act(now, action, r);
        }
        if !(200..300).contains(&status) {
            return self.failed(now, net, id, false, &format!("HTTP {status}"));
        }
        let Some(r) = self.requests.remove(&id) else {
            return Ok(());
        };
        let first = r.first_byte.unwrap_or(r.started);
        match r.purpose {
            Purpose::Manifest => self.apply_dash(&r.body, now),
            Purpose::Playlist { slot, index } => self.on_playlist(now, slot, index, &r.body),
            Purpose::Index { slot, index, part } => self.on_index(slot, index, part, &r.body),
            Purpose::Key { url } => self.on_key(url, &r.body),
            purpose @ Purpose::Init { .. } => self.decrypted(purpose, r.body),
            purpose @ Purpose::Media { .. } => {
                self.abr.on_download(
                    r.body.len() as u64,
                    now.saturating_sub(first).as_secs_f64(),
                    first.saturating_sub(r.started).as_secs_f64(),
                );
                self.decrypted(purpose, r.body)
            }
        }
    }

    /// Asks for the key of `encryption` (when it has one) unless it is here or on its way.
    pub(super) fn want_key(
        &mut self,
        now: Duration,
        encryption: &Encryption,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if let Encryption::Aes128(key) = encryption {
            self.want_key_at(now, &key.url, net, out);
        }
    }

    /// Asks for the key at `key_url` unless it is here or on its way.
    fn want_key_at(
        &mut self,
        now: Duration,
        key_url: &str,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if self.keys.get(key_url).is_some()
            || self.busy(|p| matches!(p, Purpose::Key { url } if url == key_url))
        {
            return;
        }
        let url = key_url.to_string();
        self.send(
            now,
            net,
            Purpose::Key { url: url.clone() },
            url,
            None,
            0,
            out,
        );
    }

    /// Asks again for the key of a body waiting for it whose key is neither here nor on its
    /// way: one that left the bounded cache between the segment's request and its arrival.
    pub(super) fn want_parked_keys(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let mut urls: Vec<String> = self.parked.iter().map(|p| p.key_url.clone()).collect();
        urls.dedup();
        for url in urls {
            self.want_key_at(now, &url, net, out);
        }
    }

    /// A key arrived: kept, and the bodies that waited for it handed on.
    fn on_key(&mut self, url: String, body: &[u8]) -> Result<(), Error> {
        let key = crypto::Key::from_response(body, &url)?;
        self.keys.insert(url.clone(), key);
        let (ready, waiting): (Vec<Parked>, Vec<Parked>) = std::mem::take(&mut self.parked)
            .into_iter()
            .partition(|p| p.key_url == url);
        self.parked = waiting;
        for p in ready {
            self.decrypted(p.purpose, p.body)?;
        }
        Ok(())
    }

    /// A downloaded initialization segment or media segment: decrypted when it is encrypted
    /// (parked until its key is here), then kept or parsed.
    fn decrypted(&mut self, purpose: Purpose, body: Vec<u8>) -> Result<(), Error> {
        // What encrypts it, and the media sequence number its IV may be.
        let (encryption, number) = match &purpose {
            Purpose::Init { init } => (init.encryption.clone(), 0),
            Purpose::Media {
                slot,
                number,
                level,
            } => self
                .segment_for(*slot, *number, *level)
                .map_or((Encryption::Clear, 0), |(s, _)| (s.encryption, s.number)),
            Purpose::Playlist { .. }
            | Purpose::Index { .. }
            | Purpose::Manifest
            | Purpose::Key { .. } => (Encryption::Clear, 0),
        };
        let body = match encryption {
            Encryption::Aes128(k) => {
                let Some(key) = self.keys.get(&k.url) else {
                    self.parked.push(Parked {
                        purpose,
                        key_url: k.url,
                        body,
                    });
                    return Ok(());
                };
                match crypto::decrypt(key, k.iv.bytes(number), body) {
                    Ok(clear) => clear,
                    Err(e) => {
                        return match purpose {
                            // A segment that does not decrypt is one that does not parse.
                            Purpose::Media { slot, number, .. } => {
                                self.skip(slot, number);
                                Ok(())
                            }
                            // Every segment after an init needs it: the stream cannot play.
                            Purpose::Init { init } => Err(Error::new(
                                e.kind,
                                format!("initialization segment {}: {}", init.url, e.message),
                            )),
                            Purpose::Playlist { .. }
                            | Purpose::Index { .. }
                            | Purpose::Manifest
                            | Purpose::Key { .. } => Err(e),
                        };
                    }
                }
            }
            Encryption::Clear | Encryption::Unsupported(_) => body,
        };
        match purpose {
            Purpose::Init { init } => {
                self.inits.insert(init, body);
                Ok(())
            }
            Purpose::Media {
                slot,
                number,
                level,
            } => self.on_segment(slot, number, level, body),
            Purpose::Playlist { .. }
            | Purpose::Index { .. }
            | Purpose::Manifest
            | Purpose::Key { .. } => Ok(()),
        }
    }

    pub(super) fn on_index(
        &mut self,
        slot: Slot,
        index: usize,
        part: usize,
        body: &[u8],
    ) -> Result<(), Error> {
        let Some(m) = self.media_mut(slot, index) else {
            return Ok(());
        };
        let MediaRef::Indexed(parts) = &m.source else {
            return Ok(());
        };
        let Some(p) = parts.get(part) else {
            return Ok(());
        };
        let list = sidx::parse(body, p)?;
        match m.partial.as_mut() {
            Some(l) => l.append(list)?,
            None => m.partial = Some(list),
        }
        m.parts_left = m.parts_left.saturating_sub(1);
        if m.parts_left == 0 {
            // Every part is in: the list becomes visible.
            m.list = m.partial.take();
            self.list_changed(slot, index);
        }
        Ok(())
    }

    pub(super) fn on_segment(
        &mut self,
        slot: Slot,
        number: u64,
        level: usize,
        body: Vec<u8>,
    ) -> Result<(), Error> {
        let init = self
            .segment_for(slot, number, level)
            .and_then(|(_, i)| i)
            .and_then(|i| self.inits.get(&i).cloned())
            .unwrap_or_default();
        let prev = self.ts_end[slot];
        match parse_segment(&init, &body, prev) {
            Ok((seg, end)) => {
                self.ts_end[slot] = end.or(prev);
                self.stats.segments += 1;
                if slot == Slot::Main {
                    self.stats.level = level;
                    self.stats.bitrate = self.levels.get(level).map_or(0, |m| m.bandwidth);
                }
                self.demux
                    .insert(&mut self.store, slot, number, level, seg)
                    .map_err(Error::from)
            }
            Err(DemuxError::Unsupported(m)) => Err(Error::new(ErrorKind::Unsupported, m)),
            Err(_) => {
                // A broken segment: move past it rather than stop.
                self.skip(slot, number);
                Ok(())
            }
        }
    }
}

/// What a request was for, as the failover decision sees it.
pub(super) fn failed(purpose: &Purpose) -> Failed {
    match *purpose {
        Purpose::Media {
            slot,
            number,
            level,
        } => Failed::Segment {
            slot,
            number,
            level,
        },
        Purpose::Playlist { slot, index } | Purpose::Index { slot, index, .. } => {
            Failed::LevelList { slot, index }
        }
        Purpose::Init { .. } | Purpose::Manifest | Purpose::Key { .. } => Failed::Other,
    }
}
