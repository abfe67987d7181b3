/** Two-step verification (TOTP) as authenticator apps take it: the key URI of a QR code. */

export const ISSUER = "Parley";

/**
 * The `otpauth://` URI an authenticator app reads from a QR code (Google's key URI format, which
 * every common app reads): the issuer and account name label the entry in the app; SHA-1, six
 * digits and 30-second steps are what Cognito uses.
 */
export function otpauthUri(secret: string, accountName: string, issuer: string = ISSUER): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  const query = new URLSearchParams({ secret, issuer, algorithm: "SHA1", digits: "6", period: "30" });
  return `otpauth://totp/${label}?${query.toString()}`;
}

/** The key in groups of four, easier to read and type: "JBSW Y3DP EHPK 3PXP". */
export function groupedSecret(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(" ") ?? secret;
}
