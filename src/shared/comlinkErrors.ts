import { transferHandlers, type TransferHandler } from 'comlink';
import { AppError, toErrorInfo, type ErrorInfo } from '../core/io/errors.ts';

/**
 * Comlink's default "throw" handler keeps only message/stack. Ours keeps the error code and
 * subject so the UI can tell a 404 from a checksum failure. Installed on both sides of the bridge.
 */
export function installErrorTransfer(): void {
  const original = transferHandlers.get('throw');
  if (!original) return;
  const handler: TransferHandler<{ value: unknown }, { value: ErrorInfo }> = {
    // Comlink marks thrown values with a private symbol; its own handler recognises them.
    canHandle: (v): v is { value: unknown } => original.canHandle(v),
    serialize: (v) => [{ value: toErrorInfo(v.value) }, []],
    deserialize: (s) => {
      const info = s.value;
      throw info.code === 'internal' ? new Error(info.message) : new AppError(info.code, info.message, info.subject);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
