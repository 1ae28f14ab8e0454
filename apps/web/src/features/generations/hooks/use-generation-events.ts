import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { z } from 'zod';
import { generationEventSchema } from '@atelier/contracts';
import { removeGeneration, refreshAfterReconnect, upsertGeneration } from '../cache';
import { applyBalance, parseCreditsEvent, resyncCredits } from '#/features/credits/cache';

// Sent when a generation is deleted (here, in another tab, or through the API).
const deletedEventSchema = z.object({ id: z.string() });

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

const RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * Subscribes to /api/events (SSE, cookie-authenticated), merges every `generation.updated` into the
 * query cache, drops generations on `generation.deleted` and shows each `credits.updated` balance.
 * EventSource retries by itself after a dropped connection, but gives up for good on an HTTP error
 * (a 401, a 502 from a proxy during a restart), so a closed source is reopened here with backoff.
 * Whenever the stream comes back after an outage, the newest page is refetched to catch missed updates.
 */
export function useGenerationEvents(enabled = true): LiveStatus {
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');

  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let hasBeenOpen = false;
    let disposed = false;

    const onUpdated = (message: MessageEvent<string>) => {
      let json: unknown;
      try {
        json = JSON.parse(message.data);
      } catch {
        return;
      }
      const parsed = generationEventSchema.safeParse(json);
      if (parsed.success) upsertGeneration(client, parsed.data.generation);
      else console.warn('Ignoring a malformed generation.updated event', parsed.error);
    };

    const onDeleted = (message: MessageEvent<string>) => {
      try {
        const parsed = deletedEventSchema.safeParse(JSON.parse(message.data));
        if (parsed.success) removeGeneration(client, parsed.data.id);
      } catch {
        /* malformed: ignore */
      }
    };

    // The balance changed (a hold, a charge, a refund for failed work, a purchase landing): show it everywhere.
    const onCredits = (message: MessageEvent<string>) => {
      const balance = parseCreditsEvent(message.data);
      if (balance) void applyBalance(client, balance).catch(() => {});
      else console.warn('Ignoring a malformed credits.updated event');
    };

    const connect = () => {
      source = new EventSource('/api/events');
      source.addEventListener('generation.updated', onUpdated);
      source.addEventListener('generation.deleted', onDeleted);
      source.addEventListener('credits.updated', onCredits);
      source.addEventListener('open', () => {
        attempt = 0;
        setStatus('live');
        if (hasBeenOpen) void refreshAfterReconnect(client).catch(() => {});
        // A balance change between the account's first read and this open was pushed to no one: read it again.
        void resyncCredits(client).catch(() => {});
        hasBeenOpen = true;
      });
      source.addEventListener('error', () => {
        if (disposed) return;
        setStatus('reconnecting');
        if (source?.readyState !== EventSource.CLOSED) return; // the browser is already retrying
        source = null;
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
        attempt += 1;
        hasBeenOpen = true; // whatever happened, the next open must resynchronise
        retryTimer = setTimeout(connect, delay);
      });
    };

    connect();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, [client, enabled]);

  return status;
}
