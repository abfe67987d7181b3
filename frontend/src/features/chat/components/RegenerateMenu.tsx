import { useEffect, useId, useRef, useState } from "react";
import type { KeyboardEvent } from "react";

import type { ModelInfo } from "@/types/api";

/**
 * "Regenerate with…" on an assistant reply: a menu of the models the user may use; choosing one
 * asks it for a new version of the reply (the conversation's model stays as it is).
 *
 * The WAI-ARIA menu button pattern: the button says it opens a menu and whether it is open;
 * Enter, Space or ↓ open it on the first model, ↑ on the last; in the menu ↑ ↓ Home End move,
 * Enter or a click chooses, Esc closes and gives focus back to the button, Tab or a click
 * outside closes it.
 */
export function RegenerateMenu({
  models,
  writtenBy,
  onChoose,
}: {
  models: ModelInfo[];
  /** The catalog id of the model that wrote the version shown. */
  writtenBy?: string | null;
  onChoose: (model: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const root = useRef<HTMLSpanElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const items = useRef<(HTMLButtonElement | null)[]>([]);
  const [focusOn, setFocusOn] = useState<number | null>(null);

  useEffect(() => {
    if (open && focusOn !== null) items.current[focusOn]?.focus();
  }, [open, focusOn]);
  useEffect(() => {
    if (!open) return;
    const outside = (event: MouseEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);

  const show = (index: number) => {
    setOpen(true);
    setFocusOn((index + models.length) % models.length);
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    setFocusOn(null);
    if (refocus) button.current?.focus();
  };
  const onButtonKey = (event: KeyboardEvent) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      show(event.key === "ArrowDown" ? 0 : -1);
    }
  };
  const onMenuKey = (event: KeyboardEvent) => {
    const at = focusOn ?? 0;
    const moves: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: -1 };
    if (event.key in moves) {
      event.preventDefault();
      show(moves[event.key]!);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // Esc here closes the menu, nothing else (not Stop)
      close(true);
    } else if (event.key === "Tab") {
      close(false);
    }
  };

  if (models.length === 0) return null;
  return (
    <span className="model-menu" ref={root}>
      <button
        ref={button}
        type="button"
        className="btn btn-ghost btn-small"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close(false) : show(0))}
        onKeyDown={onButtonKey}
      >
        Regenerate with…
      </button>
      {open && (
        <ul id={menuId} className="model-menu-list" role="menu" aria-label="Regenerate with" onKeyDown={onMenuKey}>
          {models.map((model, index) => (
            <li key={model.id} role="none">
              <button
                ref={(element) => {
                  items.current[index] = element;
                }}
                type="button"
                role="menuitem"
                tabIndex={-1}
                className="model-menu-item"
                onClick={() => {
                  close(true);
                  onChoose(model.id);
                }}
                onFocus={() => setFocusOn(index)}
              >
                <span>{model.label}</span>
                {model.id === writtenBy && (
                  <>
                    {" "}
                    <span className="model-menu-note">wrote this version</span>
                  </>
                )}
              </button>
            </li>
          ))}
        </ul>
      )}
    </span>
  );
}
