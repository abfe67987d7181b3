import { useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type { KeyboardEvent } from "react";

import { Button } from "@/components/ui/Button";
import { Icon } from "@/components/ui/Icon";
import { AttachmentTray } from "@/features/chat/components/AttachmentTray";
import type { AttachmentsController } from "@/features/chat/hooks/useAttachments";
import { applyMention, matchMentions, mentionAt } from "@/features/chat/mentions";

/** The longest message before the server tells its limit (its frame limit, in characters). */
const DEFAULT_MAX_CHARS = 16_000;
/** The counter shows from this share of the limit on. */
const COUNTER_FROM = 0.8;

/** The server's refusal of a message over the limit, word for word. */
export function tooLong(length: number, limit: number): string {
  return `Message is too long: ${length.toLocaleString("en-US")} characters; the limit is ${limit.toLocaleString("en-US")}.`;
}

/**
 * The message box. Enter sends, Shift+Enter adds a line, Esc stops a streaming reply. In rooms,
 * typing `@` offers the assistant and the members (arrows to choose, Enter or Tab to insert).
 */
export function Composer({
  onSend,
  onStop,
  streaming,
  blockWhileStreaming,
  mentionCandidates,
  onTyping,
  restoreDraft,
  placeholder,
  disabled,
  maxChars = DEFAULT_MAX_CHARS,
  attachments,
}: {
  onSend: (content: string) => void;
  onStop: () => void;
  streaming: boolean;
  /** In an assistant chat one reply at a time: Send turns into Stop. */
  blockWhileStreaming: boolean;
  mentionCandidates?: string[];
  onTyping?: (isTyping: boolean) => void;
  /** A sent message handed back (refused for now): put in the box once per key, before anything typed since. */
  restoreDraft?: { key: string; content: string } | null;
  placeholder: string;
  disabled?: boolean;
  /** The server's limit on a message (`GET /me` → `limits.messageChars`). */
  maxChars?: number;
  /** Files to send with the message: attached by button, drag and drop or paste. */
  attachments?: AttachmentsController;
}) {
  const picker = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [text, setText] = useState("");
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLTextAreaElement>(null);
  const caretAfterRender = useRef<number | null>(null);
  const listId = useId();
  const [restoredKey, setRestoredKey] = useState<string | null>(null);
  if (restoreDraft && restoreDraft.key !== restoredKey) {
    setRestoredKey(restoreDraft.key);
    setText((current) => (current ? `${restoreDraft.content}\n${current}` : restoreDraft.content));
  }
  const options = mention && mentionCandidates ? matchMentions(mentionCandidates, mention.query) : [];
  const open = options.length > 0;

  useLayoutEffect(() => {
    if (caretAfterRender.current === null) return;
    input.current?.setSelectionRange(caretAfterRender.current, caretAfterRender.current);
    caretAfterRender.current = null;
  }, [text]);

  useEffect(() => {
    const element = input.current;
    if (!element) return;
    element.style.height = "auto";
    element.style.height = `${Math.min(element.scrollHeight, 240)}px`;
  }, [text]);

  const update = (value: string, caret: number) => {
    setText(value);
    setMention(mentionCandidates ? mentionAt(value, caret) : null);
    setActive(0);
    onTyping?.(value.length > 0);
  };

  const choose = (handle: string) => {
    if (!mention || !input.current) return;
    const caret = input.current.selectionStart ?? text.length;
    const next = applyMention(text, mention.start, caret, handle);
    setText(next.text);
    setMention(null);
    caretAfterRender.current = next.caret;
  };

  const length = text.trim().length;
  const over = length > maxChars;
  const submit = () => {
    const content = text.trim();
    if (!content || over || disabled || attachments?.busy || (streaming && blockWhileStreaming)) return;
    onSend(content);
    onTyping?.(false);
    setText("");
    setMention(null);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        setActive((i) => (i + step + options.length) % options.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(options[active]!);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setMention(null);
        return;
      }
    }
    if (event.key === "Escape" && streaming) {
      event.preventDefault();
      onStop();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  };

  const showStop = streaming;
  return (
    <form
      className={`composer ${dragging ? "is-dropping" : ""}`.trim()}
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
      onDragOver={(event) => {
        if (!attachments || !event.dataTransfer.types.includes("Files")) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        if (!attachments || event.dataTransfer.files.length === 0) return;
        event.preventDefault();
        setDragging(false);
        attachments.add(event.dataTransfer.files);
      }}
      onPaste={(event) => {
        if (!attachments || event.clipboardData.files.length === 0) return;
        event.preventDefault();
        attachments.add(event.clipboardData.files);
      }}
    >
      {attachments && <AttachmentTray attachments={attachments} />}
      {attachments && (
        <>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            data-testid="attach-input"
            onChange={(event) => {
              if (event.target.files) attachments.add(event.target.files);
              event.target.value = "";
            }}
          />
          <Button
            variant="secondary"
            className="attach-button"
            aria-label="Attach files"
            title="Attach files (or drop or paste them here)"
            disabled={disabled}
            onClick={() => picker.current?.click()}
          >
            <Icon name="paperclip" />
          </Button>
        </>
      )}
      <div className="composer-field">
        <label htmlFor={`${listId}-input`} className="visually-hidden">
          Message
        </label>
        <textarea
          id={`${listId}-input`}
          ref={input}
          rows={1}
          value={text}
          placeholder={placeholder}
          aria-invalid={over || undefined}
          aria-describedby={length >= maxChars * COUNTER_FROM ? `${listId}-count` : undefined}
          disabled={disabled}
          role={mentionCandidates ? "combobox" : undefined}
          aria-expanded={mentionCandidates ? open : undefined}
          aria-controls={mentionCandidates ? `${listId}-mentions` : undefined}
          aria-autocomplete={mentionCandidates ? "list" : undefined}
          aria-activedescendant={open ? `${listId}-option-${active}` : undefined}
          aria-keyshortcuts="Enter Shift+Enter Escape"
          onChange={(event) => update(event.target.value, event.target.selectionStart)}
          onKeyDown={onKeyDown}
          onBlur={() => onTyping?.(false)}
        />
        {length >= maxChars * COUNTER_FROM && (
          <p id={`${listId}-count`} className={`composer-count ${over ? "is-over" : ""}`} role={over ? "alert" : undefined}>
            {over ? tooLong(length, maxChars) : `${length.toLocaleString("en-US")} / ${maxChars.toLocaleString("en-US")}`}
          </p>
        )}
        {mentionCandidates && (
          <ul id={`${listId}-mentions`} role="listbox" aria-label="Mention someone" className="mentions" hidden={!open}>
            {options.map((option, index) => (
              <li
                key={option}
                id={`${listId}-option-${index}`}
                role="option"
                aria-selected={index === active}
                onMouseDown={(event) => {
                  event.preventDefault();
                  choose(option);
                }}
              >
                @{option}
              </li>
            ))}
          </ul>
        )}
      </div>
      {showStop && (
        <Button variant="secondary" onClick={onStop} aria-keyshortcuts="Escape">
          Stop
        </Button>
      )}
      {(!showStop || !blockWhileStreaming) && (
        <Button type="submit" variant="primary" disabled={!text.trim() || over || disabled || attachments?.busy}>
          Send
        </Button>
      )}
    </form>
  );
}
