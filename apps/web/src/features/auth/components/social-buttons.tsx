import { useState } from 'react';
import type { AuthProviders } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { startSocialSignIn } from '../identity-api';

type Provider = AuthProviders['social'][number];

/** One button per configured provider, then a divider before the e-mail form. */
export function SocialButtons({ providers, next }: { providers: Provider[]; next: string }) {
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  const go = (provider: Provider) => {
    setBusy(provider.id);
    startSocialSignIn(provider.id, next).catch((error: unknown) => {
      setBusy(null);
      toast.error(`Could not start signing in with ${provider.name}`, describeError(error));
    });
  };
  return (
    <div className="auth-social">
      {providers.map((p) => (
        <Button key={p.id} size="lg" className="auth-social__button" isBusy={busy === p.id} disabled={busy !== null} onClick={() => go(p)}>
          Continue with {p.name}
        </Button>
      ))}
      <div className="auth-social__divider" role="separator">
        <span>or with e-mail</span>
      </div>
    </div>
  );
}
