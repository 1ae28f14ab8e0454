import { useCallback } from 'react';
import { useNavigate } from 'react-router';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { describeAdmissionError } from '../admission';
import { useAccount } from './use-account';

/**
 * Shows why a generation could not start. A refusal by the credits or the plan's limits says which
 * limit, when it resets and how to raise it, with a way to the Billing page; anything else is shown
 * under `fallbackTitle` as before.
 */
export function useGenerationErrorToast() {
  const toast = useToast();
  const navigate = useNavigate();
  const account = useAccount();
  const paymentsEnabled = account.data?.payments_enabled;
  return useCallback(
    (fallbackTitle: string, error: unknown) => {
      const message = describeAdmissionError(error, { paymentsEnabled });
      if (!message) {
        toast.error(fallbackTitle, describeError(error));
        return;
      }
      const { action } = message;
      toast.show({ tone: 'error', title: message.title, description: message.description, action: action ? { label: action.label, onSelect: () => void navigate(action.to) } : undefined });
    },
    [navigate, paymentsEnabled, toast],
  );
}
