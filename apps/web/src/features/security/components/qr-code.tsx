import { useEffect, useState } from 'react';
import QRCode from 'qrcode';

/** The otpauth:// URI as a QR code for an authenticator app to scan; drawn locally, the secret never leaves the page. */
export function QrCode({ value, label }: { value: string; label: string }) {
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    let isCurrent = true;
    void QRCode.toDataURL(value, { margin: 1, width: 200, errorCorrectionLevel: 'M', color: { dark: '#111111', light: '#ffffff' } }).then((url) => {
      if (isCurrent) setSrc(url);
    });
    return () => {
      isCurrent = false;
    };
  }, [value]);
  return <div className="qr-code">{src ? <img src={src} width={200} height={200} alt={label} /> : <div className="skeleton qr-code__placeholder" aria-label="Drawing the QR code" />}</div>;
}
