import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { useState } from "react";

import { ModelPicker, describeModel } from "@/features/conversations/components/ModelPicker";
import { HttpClient } from "@/lib/http";
import { SessionContext } from "@/lib/session";
import type { ModelList } from "@/types/api";

const models: ModelList = {
  default: "haiku",
  items: [
    {
      id: "haiku",
      label: "Claude 3 Haiku",
      provider: "bedrock",
      contextWindow: 200000,
      maxOutputTokens: 1024,
      messageChars: 16000,
      vision: true,
      price: { input: 0.25, output: 1.25 },
      default: true,
    },
    {
      id: "micro",
      label: "Nova Micro",
      provider: "bedrock",
      contextWindow: 128000,
      maxOutputTokens: 2048,
      messageChars: 16000,
      vision: false,
      price: { input: 0.035, output: 0.14 },
      default: false,
    },
  ],
};

/** The picker against a real HTTP server answering GET /models, as the app runs it. */
describe("ModelPicker", () => {
  let requests = 0;
  const http = createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    if (req.url === "/models") {
      requests += 1;
      res.end(JSON.stringify(models));
    } else res.writeHead(404).end("{}");
  });
  beforeAll(() => new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => http.close(resolve)));
  beforeEach(() => (requests = 0));

  function Harness({ initial, onChange }: { initial: string | null; onChange: (model: string) => void }) {
    const [value, setValue] = useState(initial);
    return (
      <ModelPicker
        value={value}
        onChange={(model) => {
          setValue(model);
          onChange(model);
        }}
      />
    );
  }

  function renderPicker(initial: string | null, onChange: (model: string) => void = () => undefined) {
    const tokens = { getToken: async () => "a.b.c" };
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const session = { userId: "me", email: "me@example.com", name: "Me", http: new HttpClient(base, tokens), demoModel: null };
    render(
      <QueryClientProvider client={new QueryClient()}>
        <SessionContext.Provider value={session}>
          <Harness initial={initial} onChange={onChange} />
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  it("is a labelled list of the caller's models, the default chosen, with what it can do and costs", async () => {
    renderPicker(null);
    const select = await screen.findByRole("combobox", { name: "Model" });
    expect(select).toHaveValue("haiku");
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["Claude 3 Haiku", "Nova Micro"]);
    expect(select).toHaveAccessibleDescription(
      "Sees images · $0.25 in / $1.25 out per 1M tokens. Applies to the next reply.",
    );
    expect(requests).toBe(1);
  });

  it("is chosen with the keyboard and says the new model's abilities", async () => {
    const chosen: string[] = [];
    renderPicker("haiku", (model) => chosen.push(model));
    const select = await screen.findByRole("combobox", { name: "Model" });
    select.focus();
    await userEvent.selectOptions(select, "Nova Micro");
    expect(chosen).toEqual(["micro"]);
    expect(select).toHaveValue("micro");
    expect(select).toHaveAccessibleDescription(
      "Text only · $0.035 in / $0.14 out per 1M tokens. Applies to the next reply.",
    );
  });

  it("still shows a conversation's model that the caller may not choose any more", async () => {
    renderPicker("retired");
    const select = await screen.findByRole("combobox", { name: "Model" });
    expect(select).toHaveValue("retired");
    expect(select).toHaveAccessibleDescription("Not offered any more. Applies to the next reply.");
  });

  it("describes prices down to fractions of a cent", () => {
    expect(describeModel({ ...models.items[1]!, price: { input: 0.000001, output: 3 } })).toBe(
      "Text only · $0.000001 in / $3.00 out per 1M tokens",
    );
  });
});
