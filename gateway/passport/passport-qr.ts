import QRCode from 'qrcode';

// M recovers ~15% of damaged modules, enough for a scuffed label, with a code a phone reads at arm's length.
const OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

/** The QR code of a resolver URL as a standalone SVG document (also inlined in the passport page). */
export function qrSvg(url: string): Promise<string> {
  return QRCode.toString(url, { ...OPTIONS, type: 'svg' });
}

/** The same QR code as a PNG, 8 pixels a module: sharp on a 300 dpi label printer at about 2 cm. */
export function qrPng(url: string): Promise<Buffer> {
  return QRCode.toBuffer(url, { ...OPTIONS, type: 'png', scale: 8 });
}

/**
 * The receipt as a QR code (SVG), or null when it does not fit. A compact JWS has lower-case letters, so
 * it is byte mode: level L holds 2,953 bytes at version 40; an EdDSA receipt is about 700. Shown on a
 * screen, not printed on a label, so L's lighter error correction is enough.
 */
export const RECEIPT_QR_OPTIONS = { errorCorrectionLevel: 'L', margin: 4 } as const;

export async function receiptQrSvg(receipt: string): Promise<string | null> {
  try {
    return await QRCode.toString(receipt, { ...RECEIPT_QR_OPTIONS, type: 'svg' });
  } catch {
    return null;
  }
}
