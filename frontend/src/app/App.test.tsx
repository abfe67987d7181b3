import { render, screen } from "@testing-library/react";

import { App } from "@/app/App";
import { parseConfig } from "@/config/config";

describe("App start-up", () => {
  it("names what is wrong with config.json instead of starting", async () => {
    render(<App configLoader={async () => parseConfig({ region: "eu-west-1", cognito: {}, httpApiUrl: "x" })} />);
    expect(await screen.findByRole("heading", { name: "Parley is not configured correctly" })).toBeInTheDocument();
    expect(screen.getByText("cognito.userPoolId is required")).toBeInTheDocument();
    expect(screen.getByText("httpApiUrl must be a http or https URL")).toBeInTheDocument();
    expect(screen.getByText("wsUrl is required")).toBeInTheDocument();
  });

  it("shows the sign-in screen when the config is valid and nobody is signed in", async () => {
    localStorage.clear();
    const config = parseConfig({
      region: "eu-west-1",
      cognito: { userPoolId: "eu-west-1_AbC123", clientId: "abc", endpoint: "http://127.0.0.1:1" },
      httpApiUrl: "http://127.0.0.1:1",
      wsUrl: "ws://127.0.0.1:1",
    });
    render(<App configLoader={async () => config} />);
    expect(await screen.findByRole("heading", { name: "Sign in to Parley" })).toBeInTheDocument();
  });
});
