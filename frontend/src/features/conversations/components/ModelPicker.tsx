import { useId } from "react";

import { useModels } from "@/features/conversations/api/models";
import type { ModelInfo } from "@/types/api";

function dollars(perMillion: number): string {
  return `$${perMillion.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
}

/** What a model can do and costs, in words (the hint under the picker). */
export function describeModel(model: ModelInfo): string {
  const images = model.vision ? "Sees images" : "Text only";
  const price = `${dollars(model.price.input)} in / ${dollars(model.price.output)} out per 1M tokens`;
  return `${images} · ${price}`;
}

/**
 * The model that writes the next reply: a labelled native select, so the keyboard, screen
 * readers and phones get the platform's own list. Lists the models the caller may use
 * (`GET /models`); a conversation's model the caller may not choose any more still shows.
 */
export function ModelPicker({
  value,
  onChange,
  disabled,
  label = "Model",
}: {
  value: string | null | undefined;
  onChange: (model: string) => void;
  disabled?: boolean;
  label?: string;
}) {
  const models = useModels();
  const id = useId();
  if (models.isPending) return <span className="model-picker muted small">Loading models…</span>;
  if (!models.data) return null; // the app works on with the default model
  const current = value ?? models.data.default;
  const selected = models.data.items.find((m) => m.id === current);
  return (
    <div className="model-picker">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={current}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
        onChange={(event) => onChange(event.target.value)}
      >
        {!selected && <option value={current}>{current}</option>}
        {models.data.items.map((m) => (
          <option key={m.id} value={m.id}>
            {m.label}
          </option>
        ))}
      </select>
      <span id={`${id}-hint`} className="model-picker-hint">
        {selected ? describeModel(selected) : "Not offered any more"}
        <span className="sr-only">. Applies to the next reply.</span>
      </span>
    </div>
  );
}
