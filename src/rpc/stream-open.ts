import { AbortError, TimeoutError } from '../errors.js';
import type { CallOptions, RpcClient } from './client.js';
import { type StreamTarget, VirStream, type VirStreamOptions } from './stream.js';

/**
 * Opens a stream: sends the CALL of `target.procedure` with `args`,
 * registers for the stream's packets as soon as the CALL is queued (data may
 * arrive before the reply), and resolves with the stream and the call's
 * decoded result once the reply is in.
 *
 * The signal and timeout cover the opening call only. If they fire first the
 * caller gets the error at once, while the reply is still awaited in the
 * background so that a stream the daemon did open is aborted rather than
 * left running.
 */
export async function openStreamCall<R>(
  rpc: RpcClient,
  target: StreamTarget,
  args: unknown,
  opts: CallOptions & VirStreamOptions = {},
): Promise<{ stream: VirStream; result: R }> {
  const stream = new VirStream(rpc, target, opts);
  const label = target.procedure.label;
  const call = rpc.openStream(target.procedure, args, (serial) => stream.attach(serial));
  let gaveUp = false;
  const reply = call.then(
    (result) => {
      stream.opened();
      if (gaveUp) void stream.abort();
      return result as R;
    },
    (err: Error) => {
      stream.openFailed(err);
      throw err;
    },
  );
  const { signal, timeoutMs } = opts;
  if (!signal && timeoutMs === undefined) return { stream, result: await reply };
  if (signal?.aborted) {
    gaveUp = true;
    reply.catch(() => {});
    throw new AbortError(`${label} aborted before it was sent`, { cause: signal.reason });
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    const stop = (err: Error): void => {
      gaveUp = true;
      reply.catch(() => {});
      reject(err);
    };
    onAbort = () => stop(new AbortError(`${label} aborted`, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () => stop(new TimeoutError(`${label} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
  });
  try {
    return { stream, result: await Promise.race([reply, giveUp]) };
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
