/**
 * The HTTP API's shapes, generated from chat_api's GET /openapi.json (`invoke gen-types`), under
 * the names the app uses.
 */
import type { components } from "./api.gen";

type Schemas = components["schemas"];

export type Conversation = Schemas["Conversation"];
export type Message = Schemas["Message"];
/** A message as `GET …/messages` lists it: with the caller's own rating of a reply. */
export type ListedMessage = Schemas["ListedMessage"];
export type Feedback = Schemas["Feedback"];
export type Rating = Feedback["rating"];
export type Usage = Schemas["Usage"];
export type Member = Schemas["Member"];
export type Me = Schemas["Me"];
export type ApiErrorBody = Schemas["ErrorResponse"];
export type Role = Conversation["role"];
export type MessageStatus = Message["status"];

/** Every list answer: a page of items and an opaque cursor for the next one. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Attachment = Schemas["Attachment"];
export type MessageAttachment = Schemas["MessageAttachment"];
export type UploadGrant = Schemas["UploadGrant"];
export type AttachmentDownload = Schemas["AttachmentDownload"];

/** A model of the environment's catalog (`GET /models`). */
export type ModelInfo = Schemas["ModelInfo"];
export type ModelList = Schemas["ModelList"];

/** One of the user's assistants, and one a room added (`/assistants`, `…/assistants`). */
export type Assistant = Schemas["Assistant"];
export type AssistantList = Schemas["AssistantList"];
export type RoomAssistant = Schemas["RoomAssistant"];
export type RoomAssistantList = Schemas["RoomAssistantList"];
