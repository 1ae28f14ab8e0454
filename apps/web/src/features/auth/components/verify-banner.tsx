import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button } from '#/components/ui/button';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { profileQuery, resendVerification } from '../identity-api';
import './verify-banner.css';

/** Until the address is confirmed: a quiet reminder with "Resend". */
export function VerifyBanner() {
  const profile = useQuery(profileQuery).data;
  const toast = useToast();
  const [state, setState] = useState<'idle' | 'sending' | 'sent'>('idle');
  if (!profile || profile.email_verified) return null;
  const resend = () => {
    setState('sending');
    resendVerification(profile.email)
      .then(() => setState('sent'))
      .catch((error: unknown) => {
        setState('idle');
        toast.error('Could not send the e-mail', describeError(error));
      });
  };
  return (
    <div className="verify-banner" role="status">
      <p>
        Please confirm your e-mail address: we sent a link to <strong>{profile.email}</strong>.
      </p>
      {state === 'sent' ? (
        <span className="verify-banner__sent">Sent — check your inbox.</span>
      ) : (
        <Button size="sm" variant="secondary" isBusy={state === 'sending'} onClick={resend}>
          Resend
        </Button>
      )}
    </div>
  );
}
