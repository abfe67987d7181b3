import { lazy, Suspense } from "react";

import { CopyButton } from "@/components/ui/CopyButton";
import { groupedSecret, ISSUER, otpauthUri } from "@/features/auth/totp";

const TotpQrCode = lazy(() => import("@/features/auth/components/TotpQrCode"));

/**
 * What to put in an authenticator app: the QR code of the key, and the key itself to type in
 * (with a copy button) for an app on this device or a camera that cannot scan.
 */
export function TotpSecret({ secret, accountName }: { secret: string; accountName: string }) {
  return (
    <div className="totp-setup">
      <ol className="totp-steps">
        <li>Open an authenticator app on your phone, such as Google Authenticator, Microsoft Authenticator or 1Password.</li>
        <li>Scan the QR code, or type the key into the app.</li>
        <li>Enter the 6-digit code the app shows for {ISSUER}.</li>
      </ol>
      <div className="totp-qr">
        <Suspense fallback={<span className="small muted">Drawing the QR code…</span>}>
          <TotpQrCode value={otpauthUri(secret, accountName)} label={`QR code of the key for ${ISSUER} (${accountName})`} />
        </Suspense>
      </div>
      <p className="totp-key">
        <span className="small muted">Key </span>
        <code className="totp-secret">{groupedSecret(secret)}</code> <CopyButton text={secret} label="Copy key" />
      </p>
    </div>
  );
}

/** The label of every field that takes a code from an authenticator app. */
export const TOTP_CODE_LABEL = "6-digit code from the app";
