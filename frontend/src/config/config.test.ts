import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { ConfigError, loadConfig, parseConfig } from "@/config/config";

const valid = {
  region: "eu-west-1",
  cognito: { userPoolId: "eu-west-1_AbC123", clientId: "abc", endpoint: null, authFlow: "USER_SRP_AUTH" },
  httpApiUrl: "https://api.example.com/",
  wsUrl: "wss://ws.example.com/prod",
};

function problemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("takes federated sign-in's hosted domain and providers, or none", () => {
    expect(parseConfig(valid).oauth).toBeNull();
    const oauth = { domain: "https://parley-dev.auth.eu-west-1.amazoncognito.com/", providers: [{ name: "corp", label: "Example Corp" }] };
    expect(parseConfig({ ...valid, oauth }).oauth).toEqual({ ...oauth, domain: "https://parley-dev.auth.eu-west-1.amazoncognito.com" });
    expect(problemsOf({ ...valid, oauth: { domain: "parley-dev.auth", providers: [{ name: "-x", label: "" }] } })).toEqual([
      "oauth.domain must be a https or http URL",
      "oauth.providers.0.name must be an identity provider name",
      "oauth.providers.0.label is required",
    ]);
  });

  it("accepts the documented shape and trims the API URL's trailing slash", () => {
    const config = parseConfig(valid);
    expect(config.httpApiUrl).toBe("https://api.example.com");
    expect(config.cognito.endpoint).toBeNull();
  });

  it("takes the pool's password policy, or the deployed default when config.json has none", () => {
    const policy = { minLength: 14, requireLowercase: true, requireUppercase: false, requireNumbers: true, requireSymbols: false };
    expect(parseConfig({ ...valid, passwordPolicy: policy }).passwordPolicy).toEqual(policy);
    expect(parseConfig(valid).passwordPolicy.minLength).toBe(12);
    expect(parseConfig({ ...valid, passwordPolicy: null }).passwordPolicy.minLength).toBe(12);
    expect(problemsOf({ ...valid, passwordPolicy: { ...policy, minLength: 2 } })).toEqual([expect.stringMatching(/^passwordPolicy\.minLength /)]);
    expect(parseConfig(valid).local).toBeNull();
    expect(parseConfig({ ...valid, local: { mailboxUrl: "/_local/mailbox" } }).local).toEqual({ mailboxUrl: "/_local/mailbox", demoModel: null });
  });

  it("takes the pool's MFA setting, OPTIONAL when config.json has none, and refuses another", () => {
    expect(parseConfig(valid).mfa).toBe("OPTIONAL");
    expect(parseConfig({ ...valid, mfa: "ON" }).mfa).toBe("ON");
    expect(parseConfig({ ...valid, mfa: "OFF" }).mfa).toBe("OFF");
    expect(problemsOf({ ...valid, mfa: "SMS" })).toEqual(["mfa must be one of OFF, OPTIONAL, ON"]);
  });

  it("defaults the auth flow to SRP and the endpoint to null", () => {
    const config = parseConfig({ ...valid, cognito: { userPoolId: "eu-west-1_AbC123", clientId: "abc" } });
    expect(config.cognito.authFlow).toBe("USER_SRP_AUTH");
    expect(config.cognito.endpoint).toBeNull();
  });

  it("names every wrong field at once", () => {
    const problems = problemsOf({
      region: "Ireland",
      cognito: { userPoolId: "nope", clientId: "", authFlow: "MAGIC" },
      httpApiUrl: "ftp://x",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "region must be an AWS region such as eu-west-1",
        "cognito.userPoolId must be a user pool id such as eu-west-1_AbC123",
        "cognito.clientId is required",
        "cognito.authFlow must be one of USER_SRP_AUTH, USER_PASSWORD_AUTH",
        "httpApiUrl must be a http or https URL",
        "wsUrl is required",
      ]),
    );
  });

  it("rejects a WebSocket URL that is not ws or wss", () => {
    expect(problemsOf({ ...valid, wsUrl: "https://x" })).toEqual(["wsUrl must be a ws or wss URL"]);
  });
});

describe("loadConfig", () => {
  let body = "";
  let status = 200;
  const server = createServer((_, res) => {
    res.writeHead(status, { "Content-Type": "application/json" }).end(body);
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const fetchFromServer: typeof fetch = (input, init) => fetch(base + String(input), init);

  it("fetches and validates config.json", async () => {
    body = JSON.stringify(valid);
    status = 200;
    await expect(loadConfig(fetchFromServer)).resolves.toMatchObject({ region: "eu-west-1" });
  });

  it("says so when the file is missing", async () => {
    status = 404;
    await expect(loadConfig(fetchFromServer)).rejects.toThrow("config.json answered HTTP 404");
  });

  it("says so when the file is not JSON", async () => {
    status = 200;
    body = "<html>";
    await expect(loadConfig(fetchFromServer)).rejects.toThrow("config.json is not valid JSON");
  });

  it("says so when the server cannot be reached", async () => {
    const unreachable: typeof fetch = (input, init) => fetch(`http://127.0.0.1:1${String(input)}`, init);
    await expect(loadConfig(unreachable)).rejects.toThrow("could not be fetched");
  });
});
