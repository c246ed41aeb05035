//! [`Handler`]: one MCP session of the gateway, as rmcp's `ServerHandler`.
//!
//! Tools are served from the supervisor's cache (complete, so one page);
//! calls, prompts and resources are forwarded to the server's
//! [`Connection`](gatehouse_supervisor::Connection). Every forwarded result
//! goes back raw, through the [`Stash`](crate::splice::Stash): the typed
//! value returned here is only a placeholder.
//!
//! Request ids are the SDKs' business on each side (rmcp numbers our
//! requests to a server), progress tokens are replaced per request and
//! mapped back, and `/mcp` list cursors are ours: they name the server a
//! page came from and that server's own cursor.

use std::collections::BTreeMap;
use std::sync::Arc;

use gatehouse_approvals::{Call, Gate, Outcome};
use gatehouse_supervisor::{CallError, RawJson, ResultForm};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, ClientRequest,
    ContentBlock, ErrorData, GetPromptRequest, GetPromptRequestParams, GetPromptResponse,
    GetPromptResult, Implementation, ListPromptsRequest, ListPromptsResult,
    ListResourceTemplatesRequest, ListResourceTemplatesResult, ListResourcesRequest,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ProgressToken, ProtocolVersion, ReadResourceRequest, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, RequestMetaObject, ServerCapabilities, ServerConfig,
    SubscriptionFilter,
};
use rmcp::service::{NotificationContext, RequestContext, RoleServer, SubscriptionContext};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tracing::Instrument;

use crate::hub::{Hub, Scope};
use crate::names::{Catalog, exposed_name};
use crate::splice::object_text;

/// One session's handler; rmcp makes one per session (or per stateless
/// request).
#[derive(Clone)]
pub(crate) struct Handler {
    pub(crate) hub: Arc<Hub>,
    pub(crate) scope: Scope,
}

/// How long a list or call waits for servers that are still starting (a
/// Gatehouse the bridge just started): long enough for a quick handshake,
/// short enough not to stall a client; later arrivals come by list_changed.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

/// The list methods whose results 2026-07-28 requires caching hints on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cacheable {
    Yes,
    No,
}

impl Handler {
    /// The placeholder `_meta` for `raw`, shaped for the client's protocol
    /// era: `resultType` only from 2026-07-28 on, and the caching hints
    /// that era requires on lists.
    fn stash(
        &self,
        mut raw: Value,
        context: &RequestContext<RoleServer>,
        cacheable: Cacheable,
    ) -> rmcp::model::MetaObject {
        let modern = is_modern(context);
        if let Some(object) = raw.as_object_mut() {
            if modern {
                object
                    .entry("resultType")
                    .or_insert_with(|| json!("complete"));
                if cacheable == Cacheable::Yes {
                    object.entry("ttlMs").or_insert_with(|| json!(0));
                    object
                        .entry("cacheScope")
                        .or_insert_with(|| json!("private"));
                }
            } else if object.get("resultType").and_then(Value::as_str) == Some("complete") {
                object.remove("resultType");
            }
        }
        self.hub.stash.put(raw.to_string())
    }

    /// [`Handler::stash`] for a result kept as the JSON text the server sent
    /// (a tool call's): only its own fields are parsed, each value stays
    /// text. Its fields come out in name order, as a parsed result's do.
    fn stash_text(
        &self,
        text: &str,
        fields: Option<&BTreeMap<String, &RawValue>>,
        context: &RequestContext<RoleServer>,
    ) -> rmcp::model::MetaObject {
        let text = match fields {
            Some(fields) => result_text(fields, is_modern(context)),
            // Not an object: nothing to adjust.
            None => text.to_owned(),
        };
        self.hub.stash.put(text)
    }

    /// Forwards `request` to `server`, relaying progress to the client
    /// under its own token and cancelling when the client does.
    async fn forward<T: ResultForm>(
        &self,
        server: &str,
        request: ClientRequest,
        context: &RequestContext<RoleServer>,
    ) -> Result<T, CallError> {
        let connection = self
            .hub
            .supervisor
            .connection(server)
            .ok_or_else(|| CallError::Closed(server.to_owned()))?;
        let Some(client_token) = context.meta.get_progress_token() else {
            return connection.request(request, None, &context.ct).await;
        };
        let (sink, mut progress) =
            tokio::sync::mpsc::unbounded_channel::<ProgressNotificationParam>();
        let call = connection.request(request, Some(sink), &context.ct);
        tokio::pin!(call);
        loop {
            tokio::select! {
                result = &mut call => {
                    // Progress the server sent before its answer goes first.
                    while let Ok(update) = progress.try_recv() {
                        relay_progress(context, &client_token, update).await;
                    }
                    return result;
                }
                Some(update) = progress.recv() => relay_progress(context, &client_token, update).await,
            }
        }
    }

    /// Which server and tool an exposed tool name means in this scope.
    fn resolve_tool(&self, name: &str) -> Option<(String, String)> {
        let index = self.hub.index();
        match &self.scope {
            Scope::All => index
                .tools
                .resolve(name)
                .map(|(server, tool)| (server.to_owned(), tool.to_owned())),
            Scope::One(server) => index
                .server_tools(server)?
                .iter()
                .any(|tool| tool.name == name)
                .then(|| (server.clone(), name.to_owned())),
        }
    }

    /// Servers this scope covers that run and offer `capability`.
    fn servers_with(&self, capability: impl Fn(&ServerCapabilities) -> bool) -> Vec<String> {
        self.hub
            .index()
            .servers
            .iter()
            .map(|(name, _)| name.clone())
            .filter(|name| match &self.scope {
                Scope::All => true,
                Scope::One(server) => server == name,
            })
            .filter(|name| {
                self.hub
                    .supervisor
                    .connection(name)
                    .and_then(|c| c.server_info())
                    .is_some_and(|info| capability(&info.capabilities))
            })
            .collect()
    }

    /// One page of an aggregated list (`/mcp` prompts, resources,
    /// templates): from the cursor's server on, each server's next page,
    /// until one has more pages (its cursor goes into ours) or none is
    /// left. `rename` adjusts each item for `/mcp` and records routes.
    async fn list_across(
        &self,
        key: &str,
        cursor: Option<String>,
        servers: Vec<String>,
        make: impl Fn(Option<String>) -> ClientRequest,
        rename: impl Fn(&str, &mut Value),
        context: &RequestContext<RoleServer>,
    ) -> Result<Value, ErrorData> {
        let (mut position, mut child_cursor) = match cursor {
            None => (0, None),
            Some(cursor) => {
                let (server, child) = decode_cursor(&cursor)
                    .ok_or_else(|| ErrorData::invalid_params("invalid or expired cursor", None))?;
                let position =
                    servers
                        .iter()
                        .position(|name| *name == server)
                        .ok_or_else(|| {
                            ErrorData::invalid_params(
                                "invalid or expired cursor (the server stopped)",
                                None,
                            )
                        })?;
                (position, child)
            }
        };
        let mut items = Vec::new();
        while let Some(server) = servers.get(position) {
            let resuming = child_cursor.is_some();
            let result: Value = match self
                .forward(server, make(child_cursor.take()), context)
                .await
            {
                Ok(result) => result,
                // The server refused the cursor the client's cursor names
                // (its list changed): the client must start over, not get
                // a short list that looks complete.
                Err(CallError::Mcp(error)) if resuming => return Err(error),
                // One server failing to list must not hide the others.
                Err(err) => {
                    tracing::warn!(server, %err, "listing {key} failed");
                    position += 1;
                    continue;
                }
            };
            for mut item in result
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                rename(server, &mut item);
                items.push(item);
            }
            if let Some(next) = result.get("nextCursor").and_then(Value::as_str) {
                let mut page = serde_json::Map::new();
                page.insert(key.to_owned(), Value::Array(items));
                page.insert(
                    "nextCursor".to_owned(),
                    json!(encode_cursor(server, Some(next))),
                );
                return Ok(Value::Object(page));
            }
            position += 1;
        }
        let mut page = serde_json::Map::new();
        page.insert(key.to_owned(), Value::Array(items));
        Ok(Value::Object(page))
    }

    /// The server and its own cursor for a `/mcp/{server}` request, or the
    /// aggregated path for `/mcp`.
    fn single(&self) -> Option<&str> {
        match &self.scope {
            Scope::All => None,
            Scope::One(server) => Some(server),
        }
    }

    /// A list method on either scope: forwarded as it is to the one server,
    /// or walked across the servers that `have` the feature on `/mcp`, each
    /// item passed to `adjust` with its server.
    async fn list_paged(
        &self,
        key: &str,
        cursor: Option<String>,
        make: impl Fn(Option<String>) -> ClientRequest,
        have: impl Fn(&ServerCapabilities) -> bool,
        adjust: impl Fn(&str, &mut Value),
        context: &RequestContext<RoleServer>,
    ) -> Result<Value, ErrorData> {
        self.hub.settled(&self.scope, SETTLE).await;
        match self.single() {
            Some(server) => self
                .forward(server, make(cursor), context)
                .await
                .map_err(to_error),
            None => {
                let servers = self.servers_with(have);
                self.list_across(key, cursor, servers, make, adjust, context)
                    .await
            }
        }
    }
}

async fn relay_progress(
    context: &RequestContext<RoleServer>,
    client_token: &ProgressToken,
    mut update: ProgressNotificationParam,
) {
    update.progress_token = client_token.clone();
    if let Err(err) = context.peer.notify_progress(update).await {
        tracing::debug!(%err, "could not relay progress");
    }
}

/// The client's `_meta` minus what belongs to its own hop: the progress
/// token (rmcp sets ours) and the protocol's per-request keys (rmcp sets
/// the server's).
fn forwarded_meta(meta: Option<RequestMetaObject>) -> Option<RequestMetaObject> {
    let mut meta = meta?;
    meta.0
        .0
        .retain(|key, _| key != "progressToken" && !key.starts_with("io.modelcontextprotocol/"));
    (!meta.0.0.is_empty()).then_some(meta)
}

fn encode_cursor(server: &str, child: Option<&str>) -> String {
    let text = json!({ "s": server, "c": child }).to_string();
    format!("gh1{}", hex_encode(text.as_bytes()))
}

fn decode_cursor(cursor: &str) -> Option<(String, Option<String>)> {
    let bytes = hex_decode(cursor.strip_prefix("gh1")?)?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let server = value.get("s")?.as_str()?.to_owned();
    let child = value.get("c").and_then(Value::as_str).map(str::to_owned);
    Some((server, child))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A tool result that tells the model what went wrong: for failures of the
/// call rather than of the protocol.
/// Who made a request: the client's `clientInfo`, from the legacy session's
/// `initialize` or the 2026-07-28 request `_meta`.
fn client_name(context: &RequestContext<RoleServer>) -> String {
    let info = context.client_info().or_else(|| {
        context
            .peer
            .peer_info()
            .map(|init| init.client_info.clone())
    });
    match info {
        Some(info) if info.version.is_empty() => info.name,
        Some(info) => format!("{}/{}", info.name, info.version),
        None => "unknown client".to_owned(),
    }
}

/// A result's text from its own `fields` (values as JSON text), shaped
/// like [`Handler::stash`] shapes a parsed result for the client's era:
/// `resultType` added from 2026-07-28 on, a `"complete"` one removed
/// before.
fn result_text(fields: &BTreeMap<String, &RawValue>, modern: bool) -> String {
    let mut fields: BTreeMap<&str, &str> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.get()))
        .collect();
    if modern {
        fields.entry("resultType").or_insert(r#""complete""#);
    } else if fields
        .get("resultType")
        .is_some_and(|value| serde_json::from_str::<&str>(value).ok() == Some("complete"))
    {
        fields.remove("resultType");
    }
    object_text(fields)
}

/// Whether the client speaks 2026-07-28 or later.
fn is_modern(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// The text of a result the server marked `isError`, for the log; `fields`
/// are the result's own, their values JSON text.
fn tool_error_text(fields: &BTreeMap<String, &RawValue>) -> Option<String> {
    let flag: Value = serde_json::from_str(fields.get("isError")?.get()).ok()?;
    if flag.as_bool() != Some(true) {
        return None;
    }
    let content: Option<Value> = fields
        .get("content")
        .and_then(|content| serde_json::from_str(content.get()).ok());
    let text = content
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    Some(text)
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

fn placeholder_list<T: Default>(set_meta: impl FnOnce(&mut T)) -> T {
    let mut shell = T::default();
    set_meta(&mut shell);
    shell
}

impl rmcp::ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .build();
        let (name, instructions) = match &self.scope {
            Scope::All => (
                "gatehouse".to_owned(),
                "Tools of every MCP server Gatehouse runs, named `server__tool`.".to_owned(),
            ),
            Scope::One(server) => {
                let child = self
                    .hub
                    .supervisor
                    .connection(server)
                    .and_then(|c| c.server_info());
                if let Some(info) = &child {
                    // Mirror what the server offers, but always announce
                    // list changes: it may stop and start.
                    if info.capabilities.prompts.is_none() {
                        capabilities.prompts = None;
                    }
                    if info.capabilities.resources.is_none() {
                        capabilities.resources = None;
                    }
                }
                (
                    format!("gatehouse/{server}"),
                    child
                        .and_then(|info| info.instructions.clone())
                        .unwrap_or_else(|| {
                            format!("The `{server}` MCP server, through Gatehouse.")
                        }),
                )
            }
        };
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(name, env!("CARGO_PKG_VERSION")))
            .with_instructions(instructions)
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.hub.add_session(self.scope.clone(), context.peer);
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.tools_list_changed = requested.tools_list_changed;
        accepted.prompts_list_changed = requested.prompts_list_changed;
        accepted.resources_list_changed = requested.resources_list_changed;
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let _registered = self
            .hub
            .add_subscription(self.scope.clone(), context.sink().clone());
        context.cancelled().await;
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.hub.settled(&self.scope, SETTLE).await;
        let index = self.hub.index();
        let tools: Vec<Value> = match &self.scope {
            Scope::All => index
                .servers
                .iter()
                .flat_map(|(server, tools)| {
                    let index = &index;
                    tools.iter().map(move |tool| {
                        let mut definition = tool.definition.clone();
                        if let Some(name) = index.tools.exposed(server, &tool.name) {
                            definition["name"] = json!(name);
                        }
                        definition
                    })
                })
                .collect(),
            Scope::One(server) => index
                .server_tools(server)
                .unwrap_or_default()
                .iter()
                .map(|tool| tool.definition.clone())
                .collect(),
        };
        let meta = self.stash(json!({ "tools": tools }), &context, Cacheable::Yes);
        Ok(placeholder_list(|shell: &mut ListToolsResult| {
            shell.meta = Some(meta)
        }))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let mut resolved = self.resolve_tool(&request.name);
        if resolved.is_none() {
            self.hub.settled(&self.scope, SETTLE).await;
            resolved = self.resolve_tool(&request.name);
        }
        let Some((server, tool)) = resolved else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            ));
        };
        // At debug level only: an enabled span costs every call its
        // creation, its formatted fields and an enter and exit per poll, and
        // at info level nothing on the way logs but the approval queue, whose
        // lines name the server and tool themselves.
        let span =
            tracing::debug_span!("call", server = %server, tool = %tool, request = %context.id);
        let mut params = request;
        params.name = tool.clone().into();
        params.meta = forwarded_meta(params.meta);
        let (Some(connection), Some(info)) = (
            self.hub.supervisor.connection(&server),
            self.hub.index().tool(&server, &tool).cloned(),
        ) else {
            return Ok(CallToolResponse::Complete(tool_error(format!(
                "`{tool}` cannot run: {}. `gatehouse server start {server}` starts it.",
                self.hub.describe(&server)
            ))));
        };
        // Nothing reaches the server before the approvals let it through.
        let call = Call {
            server: server.clone(),
            tool: info,
            arguments: params.arguments.clone(),
            client: client_name(&context),
            scrubber: connection.scrubber().clone(),
        };
        let ticket = match self
            .hub
            .approvals
            .gate(call, &context.ct)
            .instrument(span.clone())
            .await
        {
            Gate::Proceed(ticket) => ticket,
            Gate::Refuse(sentence) => return Ok(CallToolResponse::Complete(tool_error(sentence))),
        };
        let forwarded = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        // Kept as the server's text: a result passes through without being
        // parsed into a `Value` and serialized back.
        let forwarded = self
            .forward::<RawJson>(&server, forwarded, &context)
            .instrument(span)
            .await;
        let result = match forwarded {
            Ok(RawJson(raw)) => {
                // The result's own fields (`None`: not an object).
                let fields: Option<BTreeMap<String, &RawValue>> = serde_json::from_str(&raw).ok();
                match fields.as_ref().and_then(tool_error_text) {
                    Some(text) => ticket.finish(Outcome::Error, Some(&text)),
                    None => ticket.finish(Outcome::Ok, None),
                }
                let meta = self.stash_text(&raw, fields.as_ref(), &context);
                let mut shell = CallToolResult::default();
                shell.meta = Some(meta);
                shell
            }
            Err(CallError::Mcp(error)) => {
                ticket.finish(Outcome::Error, Some(&error.message));
                return Err(error);
            }
            Err(CallError::Cancelled) => {
                ticket.finish(Outcome::Cancelled, None);
                return Err(ErrorData::internal_error("the request was cancelled", None));
            }
            Err(CallError::Closed(_)) => {
                let sentence = format!(
                    "The MCP server `{server}` stopped before `{tool}` finished, so the call has no result. Gatehouse restarts servers that crash; try again in a moment."
                );
                ticket.finish(Outcome::Error, Some(&sentence));
                tool_error(sentence)
            }
            Err(CallError::Failed(reason)) => {
                let sentence = format!("Calling `{tool}` on `{server}` failed: {reason}");
                ticket.finish(Outcome::Error, Some(&sentence));
                tool_error(sentence)
            }
        };
        Ok(CallToolResponse::Complete(result))
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let make = |cursor| {
            ClientRequest::ListPromptsRequest(ListPromptsRequest::with_param(
                PaginatedRequestParams::default().with_cursor(cursor),
            ))
        };
        let rename = |server: &str, item: &mut Value| {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                item["name"] = json!(exposed_name(server, name));
            }
        };
        let cursor = request.and_then(|r| r.cursor);
        let raw = self
            .list_paged(
                "prompts",
                cursor,
                make,
                |c| c.prompts.is_some(),
                rename,
                &context,
            )
            .await?;
        let meta = self.stash(raw, &context, Cacheable::Yes);
        Ok(placeholder_list(|shell: &mut ListPromptsResult| {
            shell.meta = Some(meta)
        }))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let (server, name) = match self.single() {
            Some(server) => (server.to_owned(), request.name.clone()),
            None => self.resolve_prompt(&request.name, &context).await?,
        };
        let mut params = request;
        params.name = name;
        params.meta = forwarded_meta(params.meta);
        let raw = self
            .forward(
                &server,
                ClientRequest::GetPromptRequest(GetPromptRequest::new(params)),
                &context,
            )
            .await
            .map_err(to_error)?;
        let meta = self.stash(raw, &context, Cacheable::No);
        let mut shell = GetPromptResult::default();
        shell.meta = Some(meta);
        Ok(GetPromptResponse::Complete(shell))
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let make = |cursor| {
            ClientRequest::ListResourcesRequest(ListResourcesRequest::with_param(
                PaginatedRequestParams::default().with_cursor(cursor),
            ))
        };
        // URIs stay as they are; remember whose they are, for reads.
        let route = |server: &str, item: &mut Value| {
            if let Some(uri) = item.get("uri").and_then(Value::as_str) {
                self.hub
                    .resources
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(uri.to_owned(), server.to_owned());
            }
        };
        let cursor = request.and_then(|r| r.cursor);
        let raw = self
            .list_paged(
                "resources",
                cursor,
                make,
                |c| c.resources.is_some(),
                route,
                &context,
            )
            .await?;
        let meta = self.stash(raw, &context, Cacheable::Yes);
        Ok(placeholder_list(|shell: &mut ListResourcesResult| {
            shell.meta = Some(meta)
        }))
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let make = |cursor| {
            ClientRequest::ListResourceTemplatesRequest(ListResourceTemplatesRequest::with_param(
                PaginatedRequestParams::default().with_cursor(cursor),
            ))
        };
        let cursor = request.and_then(|r| r.cursor);
        let raw = self
            .list_paged(
                "resourceTemplates",
                cursor,
                make,
                |c| c.resources.is_some(),
                |_, _| {},
                &context,
            )
            .await?;
        let meta = self.stash(raw, &context, Cacheable::Yes);
        Ok(placeholder_list(
            |shell: &mut ListResourceTemplatesResult| shell.meta = Some(meta),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let mut params = request;
        params.meta = forwarded_meta(params.meta);
        let candidates: Vec<String> = match self.single() {
            Some(server) => vec![server.to_owned()],
            None => {
                let known = self
                    .hub
                    .resources
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&params.uri)
                    .cloned();
                match known {
                    Some(server) => vec![server],
                    // A URI from a template, or listed by nobody yet: ask
                    // each server that has resources, in order.
                    None => self.servers_with(|c| c.resources.is_some()),
                }
            }
        };
        let mut last = ErrorData::resource_not_found(
            format!("no server has the resource `{}`", params.uri),
            None,
        );
        for server in candidates {
            let request =
                ClientRequest::ReadResourceRequest(ReadResourceRequest::new(params.clone()));
            match self.forward(&server, request, &context).await {
                Ok(raw) => {
                    let meta = self.stash(raw, &context, Cacheable::Yes);
                    let mut shell = ReadResourceResult::new(Vec::new());
                    shell.meta = Some(meta);
                    return Ok(ReadResourceResponse::Complete(shell));
                }
                Err(err) => last = to_error(err),
            }
        }
        Err(last)
    }
}

impl Handler {
    /// The server and name behind a `/mcp` prompt name: split at `__` when
    /// the name is plain, else found by listing every server's prompts.
    async fn resolve_prompt(
        &self,
        exposed: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<(String, String), ErrorData> {
        if let Some((server, name)) = exposed.split_once(crate::names::SEPARATOR)
            && exposed_name(server, name) == exposed
            && self.hub.supervisor.connection(server).is_some()
        {
            return Ok((server.to_owned(), name.to_owned()));
        }
        if let Some((server, name)) = self
            .hub
            .prompts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .resolve(exposed)
        {
            return Ok((server.to_owned(), name.to_owned()));
        }
        let mut pairs = Vec::new();
        for server in self.servers_with(|c| c.prompts.is_some()) {
            let mut cursor = None;
            for _page in 0..100 {
                let request = ClientRequest::ListPromptsRequest(ListPromptsRequest::with_param(
                    PaginatedRequestParams::default().with_cursor(cursor.take()),
                ));
                let Ok(result) = self.forward::<Value>(&server, request, context).await else {
                    break;
                };
                for prompt in result
                    .get("prompts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(name) = prompt.get("name").and_then(Value::as_str) {
                        pairs.push((server.clone(), name.to_owned()));
                    }
                }
                cursor = result
                    .get("nextCursor")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if cursor.is_none() {
                    break;
                }
            }
        }
        let catalog = Catalog::build(pairs.iter().map(|(s, n)| (s.as_str(), n.as_str())));
        let found = catalog
            .resolve(exposed)
            .map(|(s, n)| (s.to_owned(), n.to_owned()));
        *self
            .hub
            .prompts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = catalog;
        found.ok_or_else(|| ErrorData::invalid_params(format!("unknown prompt `{exposed}`"), None))
    }
}

fn to_error(err: CallError) -> ErrorData {
    match err {
        CallError::Mcp(error) => error,
        other => ErrorData::internal_error(other.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor("everything", Some("abc=="));
        assert_eq!(
            decode_cursor(&cursor),
            Some(("everything".to_owned(), Some("abc==".to_owned())))
        );
        assert_eq!(
            decode_cursor(&encode_cursor("x", None)),
            Some(("x".to_owned(), None))
        );
        for bad in ["", "gh1", "gh1zz", "abc", "gh17b"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_raw_result_keeps_its_values_verbatim_and_gets_the_eras_result_type() {
        let raw = r#"{"isError":true,"content":[{"type":"text","text":"no \u00e9"},{"text":"x","type":"text"}],"structuredContent":{"b":1.50,"a":null},"resultType":"complete"}"#;
        let fields: BTreeMap<String, &RawValue> = serde_json::from_str(raw).unwrap();
        let legacy = result_text(&fields, false);
        assert_eq!(
            legacy,
            r#"{"content":[{"type":"text","text":"no \u00e9"},{"text":"x","type":"text"}],"isError":true,"structuredContent":{"b":1.50,"a":null}}"#
        );
        assert_eq!(
            serde_json::from_str::<Value>(&result_text(&fields, true)).unwrap(),
            serde_json::from_str::<Value>(raw).unwrap()
        );
        let plain: BTreeMap<String, &RawValue> = serde_json::from_str(r#"{"content":[]}"#).unwrap();
        assert_eq!(
            result_text(&plain, true),
            r#"{"content":[],"resultType":"complete"}"#
        );
        assert_eq!(result_text(&plain, false), r#"{"content":[]}"#);
        let pending: BTreeMap<String, &RawValue> =
            serde_json::from_str(r#"{"resultType":"input_required"}"#).unwrap();
        assert_eq!(
            result_text(&pending, false),
            r#"{"resultType":"input_required"}"#
        );
        assert_eq!(tool_error_text(&fields).as_deref(), Some("no é\nx"));
        assert_eq!(tool_error_text(&plain), None);
    }

    #[test]
    fn a_forwarded_meta_keeps_only_what_is_not_per_hop() {
        let mut meta = RequestMetaObject::default();
        meta.0.0.insert("progressToken".to_owned(), json!(5));
        meta.0.0.insert(
            "io.modelcontextprotocol/protocolVersion".to_owned(),
            json!("2026-07-28"),
        );
        meta.0.0.insert("com.example/trace".to_owned(), json!("t"));
        let kept = forwarded_meta(Some(meta)).unwrap();
        assert_eq!(kept.0.0.keys().collect::<Vec<_>>(), ["com.example/trace"]);
        assert!(forwarded_meta(Some(RequestMetaObject::default())).is_none());
    }
}
