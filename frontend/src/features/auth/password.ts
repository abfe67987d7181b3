import type { PasswordPolicy } from "@/config/config";

/** The characters Cognito counts as symbols (its documented list, and the space). */
const SYMBOLS = new Set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ");

/** "a", "a and b", "a, b and c". */
function listed(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** What `password` lacks under `policy`, each as a phrase ("a number"); empty when it complies. */
export function missingFromPassword(password: string, policy: PasswordPolicy): string[] {
  const missing: string[] = [];
  if (policy.requireLowercase && !/[a-z]/.test(password)) missing.push("a lowercase letter");
  if (policy.requireUppercase && !/[A-Z]/.test(password)) missing.push("an uppercase letter");
  if (policy.requireNumbers && !/[0-9]/.test(password)) missing.push("a number");
  if (policy.requireSymbols && ![...password].some((c) => SYMBOLS.has(c))) missing.push("a symbol such as ! or #");
  return missing;
}

/** The policy in one sentence, for the password field's hint. */
export function passwordHint(policy: PasswordPolicy): string {
  const kinds: string[] = [];
  if (policy.requireLowercase && policy.requireUppercase) kinds.push("upper and lower case letters");
  else if (policy.requireLowercase) kinds.push("a lowercase letter");
  else if (policy.requireUppercase) kinds.push("an uppercase letter");
  if (policy.requireNumbers) kinds.push("a number");
  if (policy.requireSymbols) kinds.push("a symbol");
  const length = `At least ${policy.minLength} characters`;
  return kinds.length ? `${length} with ${listed(kinds)}.` : `${length}.`;
}

/**
 * The sentence for a password the pool refused, saying what is missing under the pool's real
 * policy (Cognito names one rule at a time; moto names none).
 */
export function weakPasswordMessage(password: string, policy: PasswordPolicy): string {
  const parts: string[] = [];
  const short = [...password].length < policy.minLength;
  if (short) parts.push(`use at least ${policy.minLength} characters`);
  const missing = missingFromPassword(password, policy);
  if (missing.length) parts.push(`add ${listed(missing)}`);
  if (!parts.length) return `Choose a stronger password. ${passwordHint(policy)}`;
  const sentence = listed(parts);
  return `Choose a stronger password: ${sentence}.`;
}
