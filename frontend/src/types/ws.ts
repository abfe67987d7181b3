/**
 * The WebSocket protocol, generated from parley.realtime.protocol's JSON Schema
 * (`invoke gen-types`), under the names the app uses.
 */
import type { ClientFrame, OnlineUser, ServerFrame, StreamingSnapshot } from "./ws.gen";

export type ClientAction = ClientFrame;
export type ServerEvent = ServerFrame;
export type StreamingResume = StreamingSnapshot;
export type PresenceUser = OnlineUser;
