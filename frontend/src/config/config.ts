import * as z from "zod/mini";

/**
 * Runtime configuration, read from /config.json at start-up so one build serves local, dev and
 * prod (Terraform writes the file in AWS, the local stack writes it locally). zod/mini keeps
 * the validator out of the way of the first-load budget.
 */
const required = z.string().check(z.minLength(1, "is required"));

const url = (schemes: string[]) =>
  required.check(
    z.refine((value: string) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a ${schemes.map((s) => s.replace(":", "")).join(" or ")} URL`),
  );

export const configSchema = z.object({
  region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1")),
  cognito: z.object({
    userPoolId: z.string().check(z.regex(/^[\w-]+_[0-9a-zA-Z]+$/, "must be a user pool id such as eu-west-1_AbC123")),
    clientId: required,
    endpoint: z.optional(z.nullable(url(["http:", "https:"]))),
    authFlow: z._default(z.enum(["USER_SRP_AUTH", "USER_PASSWORD_AUTH"]), "USER_SRP_AUTH"),
  }),
  httpApiUrl: url(["http:", "https:"]),
  wsUrl: url(["ws:", "wss:"]),
});

export type AppConfig = z.infer<typeof configSchema>;

/** Raised when config.json is missing or wrong; its lines tell an operator what to fix. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid config.json: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Validates a parsed config.json, naming every wrong field at once. */
export function parseConfig(raw: unknown): AppConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const path = issue.path.join(".") || "(root)";
        if (issue.code === "invalid_type") {
          return issue.input === undefined ? `${path} is required` : `${path} must be ${issue.expected}`;
        }
        if (issue.code === "invalid_value") return `${path} must be one of ${issue.values.join(", ")}`;
        return `${path} ${issue.message}`;
      }),
    );
  }
  const config = result.data;
  return {
    ...config,
    httpApiUrl: config.httpApiUrl.replace(/\/+$/, ""),
    cognito: { ...config.cognito, endpoint: config.cognito.endpoint ?? null },
  };
}

/** Fetches and validates /config.json; never cached by the browser (it changes per deploy). */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  let response: Response;
  try {
    response = await fetchImpl("/config.json", { cache: "no-store" });
  } catch {
    throw new ConfigError(["config.json could not be fetched (network error)"]);
  }
  if (!response.ok) throw new ConfigError([`config.json answered HTTP ${response.status}`]);
  let raw: unknown;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError(["config.json is not valid JSON"]);
  }
  return parseConfig(raw);
}
