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

/** Cognito's password policy as the pool has it (Terraform's `auth` module, the local pool). */
export const passwordPolicySchema = z.object({
  minLength: z.number().check(z.int(), z.minimum(6), z.maximum(99)),
  requireLowercase: z.boolean(),
  requireUppercase: z.boolean(),
  requireNumbers: z.boolean(),
  requireSymbols: z.boolean(),
});

export type PasswordPolicy = z.infer<typeof passwordPolicySchema>;

/** The deployed pools' policy (terraform/modules/auth), for a config.json that does not say. */
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  minLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireNumbers: true,
  requireSymbols: true,
};

/** The pool's MFA setting (Terraform's `mfa`): two-step verification offered, required or not offered. */
export const MFA_MODES = ["OFF", "OPTIONAL", "ON"] as const;
export type MfaMode = (typeof MFA_MODES)[number];

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
  /** The pool's policy; absent or null (an older deployment): the deployed default. */
  passwordPolicy: z.optional(z.nullable(passwordPolicySchema)),
  /** The pool's MFA setting; absent (an older deployment): OPTIONAL, the deployed default. */
  mfa: z._default(z.enum(MFA_MODES), "OPTIONAL"),
  /**
   * Federated sign-in (Terraform's `identity_providers`): the pool's hosted origin, where the app
   * sends people to `/oauth2/authorize` and exchanges the code, and a button per provider.
   * Absent or null: none.
   */
  oauth: z.optional(
    z.nullable(
      z.object({
        domain: url(["https:", "http:"]),
        providers: z.array(
          z.object({
            name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]$/, "must be an identity provider name")),
            label: required,
          }),
        ),
      }),
    ),
  ),
  /** Only on the local stack: its mailbox page, and the tiny demo model when that answers. */
  local: z.optional(
    z.nullable(
      z.object({
        mailboxUrl: required,
        demoModel: z.optional(z.nullable(required)),
      }),
    ),
  ),
});

type ParsedConfig = z.infer<typeof configSchema>;

/** config.json as the app uses it: defaults filled in. */
export type AppConfig = Omit<ParsedConfig, "passwordPolicy" | "local" | "oauth"> & {
  passwordPolicy: PasswordPolicy;
  oauth: OAuthConfig | null;
  local: { mailboxUrl: string; demoModel: string | null } | null;
};

/** Federated sign-in as config.json states it; `domain` without a trailing slash. */
export interface OAuthConfig {
  domain: string;
  providers: { name: string; label: string }[];
}

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
    passwordPolicy: config.passwordPolicy ?? DEFAULT_PASSWORD_POLICY,
    httpApiUrl: config.httpApiUrl.replace(/\/+$/, ""),
    cognito: { ...config.cognito, endpoint: config.cognito.endpoint ?? null },
    oauth: config.oauth ? { domain: config.oauth.domain.replace(/\/+$/, ""), providers: config.oauth.providers } : null,
    local: config.local ? { mailboxUrl: config.local.mailboxUrl, demoModel: config.local.demoModel ?? null } : null,
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
