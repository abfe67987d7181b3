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
    expect(screen.queryByText(/session/i)).not.toBeInTheDocument();
  });

  it("says so when the tab's session belongs to a user pool that no longer exists", async () => {
    // GIVEN a session stored for an app client the deployment no longer has (a reset local stack)
    localStorage.clear();
    localStorage.setItem("CognitoIdentityServiceProvider.oldclient.LastAuthUser", "u-1");
    localStorage.setItem("CognitoIdentityServiceProvider.oldclient.u-1.idToken", "x.y.z");
    localStorage.setItem("unrelated", "kept");
    const config = parseConfig({
      region: "eu-west-1",
      cognito: { userPoolId: "eu-west-1_AbC123", clientId: "abc", endpoint: "http://127.0.0.1:1" },
      httpApiUrl: "http://127.0.0.1:1",
      wsUrl: "ws://127.0.0.1:1",
      local: { mailboxUrl: "/_local/mailbox" },
    });
    render(<App configLoader={async () => config} />);
    // THEN the sign-in screen says the session is gone, and the stale session is forgotten
    expect(await screen.findByRole("heading", { name: "Sign in to Parley" })).toBeInTheDocument();
    expect(screen.getByText(/Your session no longer exists/)).toBeInTheDocument();
    expect(Object.keys(localStorage).filter((k) => k.startsWith("CognitoIdentityServiceProvider."))).toEqual([]);
    expect(localStorage.getItem("unrelated")).toBe("kept");
  });
});
