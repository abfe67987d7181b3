import { QRCodeSVG } from "qrcode.react";

/**
 * The key URI as a QR code, drawn here as an SVG: the secret never leaves the browser (no image
 * service). Black on white with a quiet zone whatever the theme, as scanners expect. Loaded on
 * demand (TotpSecret), so the QR encoder is not part of the first load.
 */
export default function TotpQrCode({ value, label }: { value: string; label: string }) {
  return <QRCodeSVG value={value} size={176} level="M" marginSize={4} bgColor="#ffffff" fgColor="#000000" role="img" aria-label={label} />;
}
