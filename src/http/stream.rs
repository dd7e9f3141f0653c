//! Response bodies written while group members are still being read (see
//! `service::members`): the client gets the page as it is produced, and
//! the server holds one batch of members at a time.
//!
//! The status line has gone out before the first batch is read, so a
//! database error part-way can no longer become a SCIM error: it is logged
//! and the connection is cut, which the client sees as a truncated body
//! (chunked transfer without its last chunk), never as a complete one.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::content_type::SCIM_CONTENT_TYPE;
use crate::scim::encode::write_json;
use crate::service::{GroupMembers, MemberFeed, PageItem, ResourceView, ServiceError};

/// Bytes gathered before they are handed to the connection.
const CHUNK_BYTES: usize = 64 * 1024;

/// A ListResponse: `envelope`, then `resources` with their members.
pub fn page(
    envelope: Map<String, Value>,
    resources: Vec<PageItem>,
    members: MemberFeed,
) -> HttpResponse {
    let writer = Writer::new(list_head(&envelope), resources, members, b"]}");
    writer.respond(HttpResponse::Ok())
}

/// A ListResponse up to its first resource: `envelope`, then `"Resources":[`.
pub fn list_head(envelope: &Map<String, Value>) -> Vec<u8> {
    let mut head = Vec::with_capacity(4096);
    open_object(&mut head, envelope);
    head.extend_from_slice(br#""Resources":["#);
    head
}

/// One resource with its members; `resp` carries its headers.
pub fn resource(
    resp: HttpResponseBuilder,
    view: ResourceView,
    members: MemberFeed,
) -> HttpResponse {
    Writer::new(Vec::new(), vec![PageItem::View(view)], members, b"").respond(resp)
}

/// The resource being written and how far its members have got.
struct OpenGroup {
    members: GroupMembers,
    /// `"members":[` is written (only once one member is shown).
    listed: bool,
}

/// Writes `head`, the resources (comma-separated) with their members,
/// then `tail`.
struct Writer {
    buf: Vec<u8>,
    resources: std::vec::IntoIter<PageItem>,
    first: bool,
    members: MemberFeed,
    open: Option<OpenGroup>,
    tail: &'static [u8],
    done: bool,
}

impl Writer {
    fn new(
        head: Vec<u8>,
        resources: Vec<PageItem>,
        members: MemberFeed,
        tail: &'static [u8],
    ) -> Self {
        Self {
            buf: head,
            resources: resources.into_iter(),
            first: true,
            members,
            open: None,
            tail,
            done: false,
        }
    }

    fn respond(self, mut resp: HttpResponseBuilder) -> HttpResponse {
        let body = futures_util::stream::try_unfold(self, |mut w| async move {
            Ok::<_, ServiceError>(w.chunk().await?.map(|bytes| (bytes, w)))
        });
        resp.content_type(SCIM_CONTENT_TYPE).streaming(body)
    }

    /// The next piece of the body; `None` after the last.
    async fn chunk(&mut self) -> Result<Option<Bytes>, ServiceError> {
        if self.done {
            return Ok(None);
        }
        while self.buf.len() < CHUNK_BYTES && !self.done {
            match self.open.take() {
                Some(group) => self.members_of(group).await?,
                None => self.next_resource(),
            }
        }
        Ok(Some(Bytes::from(std::mem::take(&mut self.buf))))
    }

    async fn members_of(&mut self, mut group: OpenGroup) -> Result<(), ServiceError> {
        let batch = self
            .members
            .next(&mut group.members)
            .await
            .inspect_err(|e| {
                let id = group.members.group();
                log::error!("group {id}: members cut short: {e}");
            })?;
        let Some(values) = batch else {
            let empty = group.members.none() && self.members.lists_none();
            let end: &[u8] = match (group.listed, empty) {
                (true, _) => b"]}",
                (false, true) => br#","members":[]}"#,
                (false, false) => b"}",
            };
            self.buf.extend_from_slice(end);
            return Ok(());
        };
        for value in values {
            let sep: &[u8] = if group.listed {
                b","
            } else {
                br#","members":["#
            };
            self.buf.extend_from_slice(sep);
            group.listed = true;
            write_json(&mut self.buf, &value);
        }
        self.open = Some(group);
        Ok(())
    }

    fn next_resource(&mut self) {
        let Some(item) = self.resources.next() else {
            self.buf.extend_from_slice(self.tail);
            self.done = true;
            return;
        };
        if !std::mem::take(&mut self.first) {
            self.buf.push(b',');
        }
        let view = match item {
            PageItem::View(view) => view,
            // Users: written whole, no members to follow.
            PageItem::Written(bytes) => {
                self.buf.extend_from_slice(&bytes);
                return;
            }
        };
        close_later(&mut self.buf, &view.body);
        let members = Uuid::parse_str(&view.id)
            .ok()
            .and_then(|id| self.members.take(id));
        match members {
            Some(members) => {
                self.open = Some(OpenGroup {
                    members,
                    listed: false,
                });
            }
            None => self.buf.push(b'}'),
        }
    }
}

/// Writes `object` without its closing brace, to be followed by more
/// members and `}`.
fn close_later(buf: &mut Vec<u8>, object: &Map<String, Value>) {
    write_json(buf, object);
    buf.pop();
}

/// `object` without its closing brace, with a comma if a member follows.
fn open_object(buf: &mut Vec<u8>, object: &Map<String, Value>) {
    close_later(buf, object);
    if !object.is_empty() {
        buf.push(b',');
    }
}
