//! Fetch completions, handed to their owner: the request service (`crate::net`) says whose
//! request an event belongs to (progressive loader, adaptive source, text tracks); this file
//! passes it on and turns what the owner reports into progress, errors and state.

use super::*;

impl Player {
    /// A fetch event, handed to the owner of its request (the one the request service named).
    pub(super) fn on_fetch(&mut self, now: Duration, owner: Owner, event: HostEvent) {
        match owner {
            Owner::Text => self.on_text_fetch(now, event),
            Owner::Adaptive => {
                let net = &mut self.net;
                let Some(a) = self.session.as_mut().and_then(|s| s.adaptive.as_mut()) else {
                    return;
                };
                let r = match event {
                    HostEvent::FetchResponse {
                        request,
                        status,
                        content_length,
                        ..
                    } => a.on_response(now, net, request, status, content_length),
                    HostEvent::FetchData { request, data } => a.on_data(net, request, &data),
                    HostEvent::FetchEnd { request } => a.on_end(now, net, request),
                    HostEvent::FetchFailed {
                        request,
                        kind,
                        message,
                    } => a.on_failed(now, net, request, kind, &message),
                    _ => Ok(()),
                };
                self.check(r);
            }
            Owner::Progressive => {
                let net = &self.net;
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                let r = match event {
                    HostEvent::FetchResponse {
                        request,
                        status,
                        content_length,
                        content_range,
                    } => s.loader.on_response(
                        now,
                        net,
                        request,
                        status,
                        content_length,
                        content_range.as_deref(),
                    ),
                    HostEvent::FetchData { request, data } => {
                        s.loader.on_data(request, &data);
                        Ok(())
                    }
                    HostEvent::FetchEnd { request } => {
                        let r = s.loader.on_end(now, net, request);
                        let (buffered_bytes, total_bytes) = {
                            let cache = lock(&s.cache);
                            (cache.contiguous_from(cache.read_pos()), cache.total())
                        };
                        self.out.push_back(HostCommand::Emit(PlayerEvent::Progress {
                            buffered_bytes,
                            total_bytes,
                        }));
                        r
                    }
                    HostEvent::FetchFailed {
                        request,
                        kind,
                        message,
                    } => s.loader.on_failed(now, net, request, kind, &message),
                    _ => Ok(()),
                };
                self.check(r);
            }
        }
    }

    /// A fetch event of the text tracks' request.
    pub(super) fn on_text_fetch(&mut self, now: Duration, event: HostEvent) {
        let out = &mut self.scratch;
        match event {
            HostEvent::FetchResponse {
                request, status, ..
            } => self
                .subs
                .on_response(now, &mut self.net, request, status, out),
            HostEvent::FetchData { request, data } => {
                self.subs.on_data(&mut self.net, request, &data, out);
            }
            HostEvent::FetchEnd { request } => {
                let adaptive = self.session.as_ref().and_then(|s| s.adaptive.as_ref());
                let offset = |d: u64| adaptive.and_then(|a| a.demux.timestamp_offset(d));
                self.subs.on_end(now, &self.net, request, &offset, out);
            }
            HostEvent::FetchFailed {
                request,
                kind,
                message,
            } => self
                .subs
                .on_failed(now, &self.net, request, kind, &message, out),
            _ => {}
        }
    }
}
