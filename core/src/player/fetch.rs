//! Fetch completions, handed to their owner: the request service (`crate::net`) says whose
//! request an event belongs to (the session's media source, or the text tracks); this file
//! passes it on and turns what the owner reports into errors.

use super::*;

impl Player {
    /// A fetch event, handed to the owner of its request (the one the request service named).
    pub(super) fn on_fetch(&mut self, now: Duration, owner: Owner, event: HostEvent) {
        match owner {
            Owner::Text => self.on_text_fetch(now, event),
            Owner::Adaptive | Owner::Progressive => {
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                // A file that handed over to a stream has cancelled its requests; the check
                // keeps a late event of one from reaching the stream all the same.
                if s.media.owner() != owner {
                    return;
                }
                let r = s
                    .media
                    .on_fetch(now, &mut self.net, event, &mut self.scratch);
                self.out.extend(self.scratch.drain(..));
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
                let media = self.session.as_ref().map(|s| &*s.media);
                let offset = |d: u64| media.and_then(|m| m.timestamp_offset(d));
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
